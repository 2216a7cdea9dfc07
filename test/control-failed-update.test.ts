// Issue 2 scope 6 and DESIGN §3: an update to a model that never becomes healthy leaves the old
// instances serving and the endpoint InService on the old config, with a FailureReason quoting
// the new instance's log; a CreateEndpoint whose model fails ends Failed with the same.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  waitUntilEndpointInService,
  type DescribeEndpointCommandOutput,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import {
  EXITS_AT_ONCE_MODEL,
  isAlive,
  listInstances,
  NEVER_READY_MODEL,
  pingInstance,
  runtime,
  sagemaker,
  writeLocalModel,
  type InstanceRow,
} from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

describe("failed updates keep the old instances serving; failed creates end Failed", () => {
  let sluice: SluiceProcess;
  let sm: SageMakerClient;
  let scratch: string;
  let serving: InstanceRow[] = [];

  async function config(name: string, model: string, count: number, startupTimeout?: number): Promise<void> {
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [
          { VariantName: "AllTraffic", ModelName: model, InitialInstanceCount: count, InstanceType: "ml.m5.large", ContainerStartupHealthCheckTimeoutInSeconds: startupTimeout },
        ],
      }),
    );
  }

  const describeEp = (name: string) => sm.send(new DescribeEndpointCommand({ EndpointName: name }));

  /** Waits for the rollout to end: InService again, with a FailureReason. */
  const settledWithFailure = (name: string) =>
    waitFor(`${name} back InService with a FailureReason`, async () => {
      const d = await describeEp(name);
      return d.EndpointStatus === "InService" && d.FailureReason !== undefined ? d : undefined;
    });

  /** The old instances are the very same processes, healthy, and serve through Sluice. */
  async function assertOldInstancesServe(d: DescribeEndpointCommandOutput): Promise<void> {
    assert.equal(d.EndpointConfigName, "echo-config");
    assert.deepEqual(
      d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount, v.CurrentWeight]),
      [["AllTraffic", 2, 2, 1]],
    );
    assert.equal(d.PendingDeploymentSummary, undefined);
    const rows = await listInstances(sluice, "serving");
    assert.deepEqual(
      rows.map((r) => [r.InstanceId, r.Pid, r.State]).sort(),
      serving.map((r) => [r.InstanceId, r.Pid, "Healthy"]).sort(),
      "exactly the old instances, healthy",
    );
    for (const r of rows) {
      assert.ok(isAlive(r.Pid!));
      assert.equal(await pingInstance(r.Port), 200);
    }
    const rt = runtime(sluice);
    for (let i = 0; i < 4; i++) {
      const out = await rt.send(new InvokeEndpointCommand({ EndpointName: "serving", Body: new TextEncoder().encode(`still serving ${i}`) }));
      assert.equal(new TextDecoder().decode(out.Body), `still serving ${i}`);
      assert.equal(out.InvokedProductionVariant, "AllTraffic");
    }
  }

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-failed-update-"));
    // ContainerStartupHealthCheckTimeoutInSeconds is at least 60 in SageMaker's model, so the
    // models meant to fail get Sluice's own start timeout (short here); the echo configs give
    // themselves 60 s, so a busy machine cannot fail them.
    sluice = await startSluice({ args: ["--instance-start-timeout", "3s"] });
    sm = sagemaker(sluice);
    await sm.send(new CreateModelCommand({ ModelName: "echo-model", PrimaryContainer: { Image: "sluice/echo" } }));
    await sm.send(new CreateModelCommand({ ModelName: "never-ready-model", PrimaryContainer: { Image: writeLocalModel(scratch, "never-ready", NEVER_READY_MODEL) } }));
    await sm.send(new CreateModelCommand({ ModelName: "exits-model", PrimaryContainer: { Image: `file://${writeLocalModel(scratch, "exits", EXITS_AT_ONCE_MODEL)}` } }));
    await config("echo-config", "echo-model", 2, 60);
    await config("echo-config-v2", "echo-model", 1, 60);
    await config("never-ready-config", "never-ready-model", 1);
    await config("exits-config", "exits-model", 1);
    await sm.send(new CreateEndpointCommand({ EndpointName: "serving", EndpointConfigName: "echo-config" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "serving" });
    serving = await listInstances(sluice, "serving");
    assert.equal(serving.length, 2);
  });
  after(async () => {
    await sluice?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("an update whose model never answers /ping: back InService on the old config, the reason quoting its log", async () => {
    await sm.send(new UpdateEndpointCommand({ EndpointName: "serving", EndpointConfigName: "never-ready-config" }));
    const during = await describeEp("serving");
    assert.equal(during.EndpointStatus, "Updating");
    assert.equal(during.EndpointConfigName, "echo-config");
    assert.equal(during.PendingDeploymentSummary?.EndpointConfigName, "never-ready-config");
    // The new instance runs beside the old ones while it is given its chance.
    const newcomer = await waitFor("the new instance to start", async () => {
      const rows = await listInstances(sluice, "serving");
      return rows.find((r) => !serving.some((s) => s.InstanceId === r.InstanceId));
    });
    assert.equal(newcomer.State, "Starting");
    assert.equal(newcomer.InRotation, false);

    const d = await settledWithFailure("serving");
    assert.match(
      d.FailureReason!,
      new RegExp(`^Instance ${newcomer.InstanceId} of variant AllTraffic did not answer GET /ping with 200 within 3 s \\(.*500.*\\)\\. Last log lines: `),
    );
    assert.match(d.FailureReason!, /never-ready: \/ping answered 500 \(weights not loaded\)/);
    assert.ok(d.FailureReason!.length <= 1024);
    await assertOldInstancesServe(d);
    assert.equal(isAlive(newcomer.Pid!), false, "the instance that never became healthy is stopped");
  });

  it("an update whose model exits at once: back InService on the old config, the reason quoting its last words", async () => {
    await sm.send(new UpdateEndpointCommand({ EndpointName: "serving", EndpointConfigName: "exits-config" }));
    const d = await settledWithFailure("serving");
    assert.match(d.FailureReason!, /^Instance serving-AllTraffic-[0-9a-f]+ of variant AllTraffic exited \(code 3\) before answering GET \/ping\. Last log lines: /);
    assert.match(d.FailureReason!, /exits-at-once: FATAL cannot open weights file \/models\/missing\.bin/);
    await assertOldInstancesServe(d);
  });

  it("a later good update succeeds and clears the FailureReason", async () => {
    await sm.send(new UpdateEndpointCommand({ EndpointName: "serving", EndpointConfigName: "echo-config-v2" }));
    await waitFor("serving to run echo-config-v2", async () => {
      const d = await describeEp("serving");
      return d.EndpointStatus === "InService" && d.EndpointConfigName === "echo-config-v2" ? d : undefined;
    }).then((d) => {
      assert.equal(d.FailureReason, undefined);
      assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 1);
    });
    await waitFor("the old instances to stop", () => (serving.every((r) => !isAlive(r.Pid!)) ? true : undefined), 30_000);
  });

  for (const { model, reason, log } of [
    {
      model: "exits",
      reason: /^Instance failing-exits-AllTraffic-[0-9a-f]+ of variant AllTraffic exited \(code 3\) before answering GET \/ping\. Last log lines: /,
      log: /exits-at-once: FATAL cannot open weights file \/models\/missing\.bin/,
    },
    {
      model: "never-ready",
      reason: /^Instance failing-never-ready-AllTraffic-[0-9a-f]+ of variant AllTraffic did not answer GET \/ping with 200 within 3 s /,
      log: /never-ready: \/ping answered 500 \(weights not loaded\)/,
    },
  ]) {
    it(`a CreateEndpoint whose model ${model === "exits" ? "exits at once" : "never answers /ping"} ends Failed with its log lines, and nothing left running`, async () => {
      const name = `failing-${model}`;
      await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${model}-config` }));
      assert.equal((await describeEp(name)).EndpointStatus, "Creating");
      const pids = new Set<number>();
      const d = await waitFor(`${name} to fail`, async () => {
        for (const r of await listInstances(sluice, name)) pids.add(r.Pid!);
        const d = await describeEp(name);
        return d.EndpointStatus === "Failed" ? d : undefined;
      }, 60_000, 50);
      assert.match(d.FailureReason!, reason);
      assert.match(d.FailureReason!, log);
      assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 0);
      assert.deepEqual(await listInstances(sluice, name), []);
      for (const pid of pids) assert.equal(isAlive(pid), false);
      // A failed endpoint cannot be updated, only deleted (as SageMaker's).
      await assert.rejects(sm.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: "echo-config" })), {
        name: "ValidationException",
        message: `Cannot update failed endpoint "${d.EndpointArn}". Delete it and create it again.`,
      });
    });
  }
});
