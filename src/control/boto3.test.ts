// Debian's python3-boto3 (/usr/bin/python3) against ControlPlane.handle: the SageMaker docs'
// deployment flow, the endpoint_in_service and endpoint_deleted waiters, pagination, tags and
// the error code waiters key on.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness } from "./test-support/harness.js";
import { serveControlPlane } from "./test-support/http-adapter.js";

const PYTHON = "/usr/bin/python3";

const SCRIPT = String.raw`
import sys, boto3, botocore
sm = boto3.client("sagemaker", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
role = "arn:aws:iam::123456789012:role/SageMakerRole"
sm.create_model(ModelName="echo", ExecutionRoleArn=role, PrimaryContainer={"Image": "sluice/echo"})
for name, count in (("cfg1", 2), ("cfg2", 1)):
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "echo", "InitialInstanceCount": count,
        "InstanceType": "ml.m5.large", "InitialVariantWeight": 1}])
for name in ("ep-a", "ep-b", "ep-c"):
    sm.create_endpoint(EndpointName=name, EndpointConfigName="cfg1", Tags=[{"Key": "app", "Value": name}])
sm.get_waiter("endpoint_in_service").wait(EndpointName="ep-a", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
d = sm.describe_endpoint(EndpointName="ep-a")
assert d["EndpointStatus"] == "InService", d
assert d["ProductionVariants"][0]["CurrentInstanceCount"] == 2, d
assert d["CreationTime"].year >= 2024, d
names = []
for page in sm.get_paginator("list_endpoints").paginate(SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}):
    names += [e["EndpointName"] for e in page["Endpoints"]]
assert names == ["ep-a", "ep-b", "ep-c"], names
sm.add_tags(ResourceArn=d["EndpointArn"], Tags=[{"Key": "team", "Value": "speech"}])
tags = sm.list_tags(ResourceArn=d["EndpointArn"])["Tags"]
assert tags == [{"Key": "app", "Value": "ep-a"}, {"Key": "team", "Value": "speech"}], tags
sm.update_endpoint(EndpointName="ep-a", EndpointConfigName="cfg2")
sm.get_waiter("endpoint_in_service").wait(EndpointName="ep-a", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
assert sm.describe_endpoint(EndpointName="ep-a")["EndpointConfigName"] == "cfg2"
sm.delete_endpoint(EndpointName="ep-a")
sm.get_waiter("endpoint_deleted").wait(EndpointName="ep-a", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
try:
    sm.describe_endpoint(EndpointName="ep-a")
    raise SystemExit("describe of a deleted endpoint succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationException", e.response
    assert e.response["Error"]["Message"] == 'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/ep-a".', e.response
print("OK")
`;

describe("boto3", { skip: existsSync(PYTHON) ? false : `${PYTHON} is not installed` }, () => {
  it("runs the SageMaker docs' deployment flow with waiters, pagination and tags", async (t) => {
    const h = await openHarness(t, [new FakeHost()]);
    const url = await serveControlPlane(t, h.plane);
    const child = spawn(PYTHON, ["-c", SCRIPT, url], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    const [code] = await once(child, "exit");
    assert.equal(code, 0, err);
    assert.equal(out.trim(), "OK");
  });
});
