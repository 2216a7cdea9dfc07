#!/usr/bin/env python3
"""Deploys a container image as a Sluice endpoint with boto3, exactly as against SageMaker.

    python3 deploy.py --endpoint-url http://127.0.0.1:8443 \
        --image localhost/sluice-byoc-python:0.1.0 --name byoc-echo

Credentials come from boto3's usual chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or
AWS_SHARED_CREDENTIALS_FILE pointing at the file Sluice printed at start-up.
"""

import argparse
import sys

import boto3

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--endpoint-url", default="http://127.0.0.1:8443")
parser.add_argument("--region", default="us-east-1")
parser.add_argument("--image", required=True)
parser.add_argument("--name", default="byoc-echo")
parser.add_argument("--instance-count", type=int, default=1)
parser.add_argument("--instance-type", default="ml.m5.large")
parser.add_argument("--model-data", help="a local path or file:// URL, mounted read-only at /opt/ml/model")
parser.add_argument("--timeout", type=int, default=300, help="seconds to wait for InService")
args = parser.parse_args()

sm = boto3.client("sagemaker", endpoint_url=args.endpoint_url, region_name=args.region)

container = {"Image": args.image, "Environment": {"LOG_LEVEL": "info"}}
if args.model_data:
    container["ModelDataUrl"] = args.model_data
sm.create_model(
    ModelName=args.name,
    PrimaryContainer=container,
    # Stored and ignored by Sluice, required by SageMaker: the same script runs against both.
    ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
)
sm.create_endpoint_config(
    EndpointConfigName=args.name,
    ProductionVariants=[
        {
            "VariantName": "AllTraffic",
            "ModelName": args.name,
            "InitialInstanceCount": args.instance_count,
            "InstanceType": args.instance_type,
        }
    ],
)
sm.create_endpoint(EndpointName=args.name, EndpointConfigName=args.name)

delay = 2
sm.get_waiter("endpoint_in_service").wait(
    EndpointName=args.name, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, args.timeout // delay)}
)
status = sm.describe_endpoint(EndpointName=args.name)
print(f"{args.name}: {status['EndpointStatus']}", file=sys.stderr)
