# The SageMaker developer guide's boto3 deployment flow ("Deploy models for real-time
# inference": create_model, create_endpoint_config, create_endpoint, then waiters), as a user
# would run it against AWS. It differs from the guide only in `endpoint_url`, `Image` and
# `ModelDataUrl`; credentials come from the environment as boto3 always reads them.
# Prints one JSON line per step so the test can check what boto3 received.
import json
import os
import sys
from time import gmtime, strftime

import boto3

endpoint_url = os.environ["SLUICE_ENDPOINT_URL"]
model_data_dir = os.environ["SLUICE_MODEL_DATA_DIR"]
aws_region = os.environ.get("AWS_REGION", "us-west-2")

sagemaker_client = boto3.client("sagemaker", region_name=aws_region, endpoint_url=endpoint_url)

sagemaker_role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole"
container = "sluice/echo"
model_url = "file://" + model_data_dir


def report(step, value):
    print(json.dumps({"step": step, "value": value}, default=str), flush=True)


suffix = strftime("%Y%m%d%H%M%S", gmtime())
model_name = "echo-model-" + suffix

# Create model
create_model_response = sagemaker_client.create_model(
    ModelName=model_name,
    ExecutionRoleArn=sagemaker_role,
    PrimaryContainer={
        "Image": container,
        "ModelDataUrl": model_url,
    },
)
report("create_model", create_model_response["ModelArn"])

# Create endpoint configuration
endpoint_config_name = "echo-config-" + suffix
instance_type = "ml.m5.xlarge"

endpoint_config_response = sagemaker_client.create_endpoint_config(
    EndpointConfigName=endpoint_config_name,
    ProductionVariants=[
        {
            "VariantName": "variant1",
            "ModelName": model_name,
            "InstanceType": instance_type,
            "InitialInstanceCount": 2,
        }
    ],
)
report("create_endpoint_config", endpoint_config_response["EndpointConfigArn"])

# Create endpoint
endpoint_name = "echo-endpoint-" + suffix
create_endpoint_response = sagemaker_client.create_endpoint(
    EndpointName=endpoint_name,
    EndpointConfigName=endpoint_config_name,
)
report("create_endpoint", create_endpoint_response["EndpointArn"])

# Wait until the endpoint is in service
waiter = sagemaker_client.get_waiter("endpoint_in_service")
waiter.wait(EndpointName=endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

describe_endpoint_response = sagemaker_client.describe_endpoint(EndpointName=endpoint_name)
report("describe_endpoint", describe_endpoint_response)

# List endpoints, one page at a time
names = []
paginator_args = {"MaxResults": 1, "NameContains": "echo-endpoint"}
while True:
    page = sagemaker_client.list_endpoints(**paginator_args)
    names.extend(e["EndpointName"] for e in page["Endpoints"])
    if "NextToken" not in page:
        break
    paginator_args["NextToken"] = page["NextToken"]
report("list_endpoints", names)

# Tag the endpoint
endpoint_arn = describe_endpoint_response["EndpointArn"]
sagemaker_client.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "team", "Value": "speech"}])
report("list_tags", sagemaker_client.list_tags(ResourceArn=endpoint_arn)["Tags"])

# Update the endpoint to a new endpoint configuration
new_endpoint_config_name = "echo-config-v2-" + suffix
sagemaker_client.create_endpoint_config(
    EndpointConfigName=new_endpoint_config_name,
    ProductionVariants=[
        {
            "VariantName": "variant2",
            "ModelName": model_name,
            "InstanceType": instance_type,
            "InitialInstanceCount": 1,
        }
    ],
)
sagemaker_client.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=new_endpoint_config_name)
waiter.wait(EndpointName=endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
updated = sagemaker_client.describe_endpoint(EndpointName=endpoint_name)
report("describe_updated_endpoint", updated)

# Delete the endpoint and wait until it is gone
sagemaker_client.delete_endpoint(EndpointName=endpoint_name)
sagemaker_client.get_waiter("endpoint_deleted").wait(EndpointName=endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
report("deleted", endpoint_name)

try:
    sagemaker_client.describe_endpoint(EndpointName=endpoint_name)
    report("describe_after_delete", "still there")
    sys.exit(1)
except sagemaker_client.exceptions.ClientError as err:
    report("describe_after_delete", err.response["Error"])
