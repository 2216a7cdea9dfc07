// The real @aws-sdk/client-sagemaker against ControlPlane.handle, through a minimal HTTP adapter
// (the product's listener lives in server/): field names, timestamp parsing, error
// mapping, the paginator and both waiters must work unchanged.

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import {
  SageMakerClient,
  CreateModelCommand,
  CreateEndpointConfigCommand,
  CreateEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  DeleteEndpointCommand,
  ListTagsCommand,
  AddTagsCommand,
  paginateListEndpoints,
  waitUntilEndpointInService,
  waitUntilEndpointDeleted,
} from "@aws-sdk/client-sagemaker";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness } from "./test-support/harness.js";
import { serveControlPlane } from "./test-support/http-adapter.js";

async function sdkAgainstPlane(t: TestContext): Promise<SageMakerClient> {
  const h = await openHarness(t, [new FakeHost()]);
  const client = new SageMakerClient({
    endpoint: await serveControlPlane(t, h.plane, "us-west-2"),
    region: "us-west-2",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  t.after(() => client.destroy());
  return client;
}

describe("@aws-sdk/client-sagemaker", () => {
  it("deploys, waits, lists, updates and deletes an endpoint like against SageMaker", async (t) => {
    const sm = await sdkAgainstPlane(t);
    const { ModelArn } = await sm.send(
      new CreateModelCommand({ ModelName: "echo", PrimaryContainer: { Image: "sluice/echo" }, ExecutionRoleArn: "arn:aws:iam::123456789012:role/r" }),
    );
    assert.equal(ModelArn, "arn:aws:sagemaker:us-west-2:000000000000:model/echo");
    for (const name of ["cfg1", "cfg2"]) {
      await sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: name,
          ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "echo", InitialInstanceCount: 2, InstanceType: "ml.m5.large" }],
        }),
      );
    }
    for (const name of ["ep-a", "ep-b", "ep-c"]) {
      await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: "cfg1" }));
    }
    const waited = await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: "ep-a" });
    assert.equal(waited.state, "SUCCESS");

    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "ep-a" }));
    assert.equal(d.EndpointStatus, "InService");
    assert.ok(d.CreationTime instanceof Date);
    assert.ok(d.ProductionVariants?.[0]?.DeployedImages?.[0]?.ResolutionTime instanceof Date);
    assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 2);

    const names: string[] = [];
    for await (const page of paginateListEndpoints({ client: sm, pageSize: 2 }, { SortBy: "Name", SortOrder: "Ascending" })) {
      names.push(...(page.Endpoints ?? []).map((e) => e.EndpointName!));
    }
    assert.deepEqual(names, ["ep-a", "ep-b", "ep-c"]);

    await sm.send(new AddTagsCommand({ ResourceArn: d.EndpointArn, Tags: [{ Key: "team", Value: "speech" }] }));
    assert.deepEqual((await sm.send(new ListTagsCommand({ ResourceArn: d.EndpointArn }))).Tags, [{ Key: "team", Value: "speech" }]);

    await sm.send(new UpdateEndpointCommand({ EndpointName: "ep-a", EndpointConfigName: "cfg2" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: "ep-a" });
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "ep-a" }))).EndpointConfigName, "cfg2");

    await sm.send(new DeleteEndpointCommand({ EndpointName: "ep-a" }));
    const deleted = await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: "ep-a" });
    assert.equal(deleted.state, "SUCCESS");

    await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: "ep-a" })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, "ValidationException");
      assert.equal(err.message, 'Could not find endpoint "arn:aws:sagemaker:us-west-2:000000000000:endpoint/ep-a".');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      return true;
    });
  });
});
