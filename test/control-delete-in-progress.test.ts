// DESIGN §3: a transition that must give way — DeleteEndpoint while the endpoint is Creating or
// Updating — is aborted and cleans up what it started: the endpoint goes, and no instance of
// either deployment is left running. Meanwhile an in-progress endpoint refuses other updates.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { ACCOUNT, GATED_MODEL, isAlive, listInstances, REGION, sagemaker, writeLocalModel, type InstanceRow } from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

describe("DeleteEndpoint while an endpoint is Creating or Updating", () => {
  let sluice: SluiceProcess;
  let sm: SageMakerClient;
  let scratch: string;

  const config = (name: string, model: string) =>
    sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: model, InitialInstanceCount: 1, ContainerStartupHealthCheckTimeoutInSeconds: 600 }],
      }),
    );
  const starting = (endpoint: string, known: InstanceRow[] = []) =>
    waitFor(`a starting instance of ${endpoint}`, async () => {
      const rows = await listInstances(sluice, endpoint);
      return rows.find((r) => r.State === "Starting" && r.Pid !== undefined && !known.some((k) => k.InstanceId === r.InstanceId));
    });

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-delete-in-progress-"));
    sluice = await startSluice();
    sm = sagemaker(sluice);
    // /ping answers 503 for ever: the gate file is never created.
    const gated = writeLocalModel(scratch, "gated", GATED_MODEL);
    await sm.send(new CreateModelCommand({ ModelName: "gated", PrimaryContainer: { Image: gated, Environment: { GATE_FILE: join(scratch, "never") } } }));
    await sm.send(new CreateModelCommand({ ModelName: "echo", PrimaryContainer: { Image: "sluice/echo" } }));
    await config("gated", "gated");
    await config("echo", "echo");
  });
  after(async () => {
    await sluice?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("while Creating: the starting instance is stopped and the endpoint is deleted", async () => {
    await sm.send(new CreateEndpointCommand({ EndpointName: "creating", EndpointConfigName: "gated" }));
    const instance = await starting("creating");
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "creating" }))).EndpointStatus, "Creating");
    await sm.send(new DeleteEndpointCommand({ EndpointName: "creating" }));
    const waited = await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "creating" });
    assert.equal(waited.state, "SUCCESS");
    assert.equal(isAlive(instance.Pid!), false);
    assert.deepEqual(await listInstances(sluice, "creating"), []);
  });

  it("while Updating: other updates are refused; then both the old and the new instances are stopped and the endpoint is deleted", async () => {
    await sm.send(new CreateEndpointCommand({ EndpointName: "updating", EndpointConfigName: "echo" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "updating" });
    const old = await listInstances(sluice, "updating");
    assert.equal(old.length, 1);
    await sm.send(new UpdateEndpointCommand({ EndpointName: "updating", EndpointConfigName: "gated" }));
    const newcomer = await starting("updating", old);
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "updating" }))).EndpointStatus, "Updating");

    const inProgress = `Cannot update in-progress endpoint "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/updating".`;
    await assert.rejects(sm.send(new UpdateEndpointCommand({ EndpointName: "updating", EndpointConfigName: "echo" })), {
      name: "ValidationException",
      message: inProgress,
    });
    await assert.rejects(
      sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: "updating", DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredInstanceCount: 2 }] }),
      ),
      { name: "ValidationException", message: inProgress },
    );
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "updating" }))).PendingDeploymentSummary?.EndpointConfigName, "gated");

    await sm.send(new DeleteEndpointCommand({ EndpointName: "updating" }));
    const waited = await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "updating" });
    assert.equal(waited.state, "SUCCESS");
    assert.equal(isAlive(old[0]!.Pid!), false, "the old instance is gone");
    assert.equal(isAlive(newcomer.Pid!), false, "the starting instance is gone");
    assert.deepEqual(await listInstances(sluice), []);
  });

  it("an endpoint created again under a deleted one's name starts afresh", async () => {
    await sm.send(new CreateEndpointCommand({ EndpointName: "updating", EndpointConfigName: "echo" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "updating" });
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "updating" }));
    assert.equal(d.EndpointConfigName, "echo");
    assert.equal(d.PendingDeploymentSummary, undefined);
    assert.equal(d.FailureReason, undefined);
    assert.deepEqual(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount]), [["AllTraffic", 1]]);
    assert.equal((await listInstances(sluice, "updating")).length, 1);
  });
});
