// Issue 2, "What it must show" and DESIGN §3 "after a restart": Sluice is killed with SIGKILL
// while an endpoint is InService, another is Creating, a third Updating and a fourth Deleting.
// Started again on the same data dir it kills every process of the previous run, brings the
// InService endpoint back with fresh instances, resumes the Creating one, restarts the rollout
// of the Updating one and completes the deletion.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import {
  GATED_MODEL,
  IGNORES_SIGTERM_MODEL,
  isAlive,
  killGroups,
  listInstances,
  runtime,
  sagemaker,
  writeLocalModel,
  type InstanceRow,
} from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

async function deploy(sm: SageMakerClient, name: string, image: string, count: number, extra: { env?: Record<string, string>; startupTimeout?: number } = {}) {
  await sm.send(new CreateModelCommand({ ModelName: `${name}-model`, PrimaryContainer: { Image: image, Environment: extra.env } }));
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [
        {
          VariantName: "AllTraffic",
          ModelName: `${name}-model`,
          InitialInstanceCount: count,
          InstanceType: "ml.m5.large",
          ContainerStartupHealthCheckTimeoutInSeconds: extra.startupTimeout,
        },
      ],
    }),
  );
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
}

const status = async (sm: SageMakerClient, name: string) => (await sm.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus;

describe("SIGKILL of Sluice, then a start on the same data dir", () => {
  let dataDir: string;
  let scratch: string;
  let gateFile: string;
  let rollingGate: string;
  let first: SluiceProcess | undefined;
  let second: SluiceProcess | undefined;
  let old: InstanceRow[] = [];
  const everyPid = new Set<number>();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "sluice-restart-"));
    scratch = mkdtempSync(join(tmpdir(), "sluice-restart-models-"));
    gateFile = join(scratch, "ready");
    rollingGate = join(scratch, "rolling-ready");
    const gated = writeLocalModel(scratch, "gated", GATED_MODEL);
    const stubborn = writeLocalModel(scratch, "stubborn", IGNORES_SIGTERM_MODEL);

    // A long stop grace, so that the endpoint being deleted is still Deleting when Sluice dies.
    first = await startSluice({ dataDir, keepData: true, args: ["--instance-stop-grace", "120s"] });
    const sm = sagemaker(first);
    await deploy(sm, "steady", "sluice/echo", 2);
    await deploy(sm, "doomed", stubborn, 1);
    await deploy(sm, "rolling", "sluice/echo", 1);
    for (const name of ["steady", "doomed", "rolling"]) {
      await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: name });
    }
    // Its /ping answers 503 until the gate file exists: it stays Creating.
    await deploy(sm, "slow", gated, 1, { env: { GATE_FILE: gateFile }, startupTimeout: 300 });
    // A gated model with a gate of its own as rolling's new config: it stays Updating, the old
    // echo serving, until the test opens that gate.
    await sm.send(new CreateModelCommand({ ModelName: "rolling-gated-model", PrimaryContainer: { Image: gated, Environment: { GATE_FILE: rollingGate } } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "rolling-config-v2",
        ProductionVariants: [{ VariantName: "Gated", ModelName: "rolling-gated-model", InitialInstanceCount: 1, ContainerStartupHealthCheckTimeoutInSeconds: 300 }],
      }),
    );
    await sm.send(new UpdateEndpointCommand({ EndpointName: "rolling", EndpointConfigName: "rolling-config-v2" }));
    await sm.send(new DeleteEndpointCommand({ EndpointName: "doomed" }));
    await waitFor("every instance to have a pid, and doomed's to be stopping", async () => {
      const rows = await listInstances(first!);
      const byEndpoint = (n: string) => rows.filter((r) => r.EndpointName === n);
      const ready =
        byEndpoint("steady").filter((r) => r.State === "Healthy").length === 2 &&
        byEndpoint("slow").some((r) => r.State === "Starting" && r.Pid !== undefined) &&
        byEndpoint("rolling").some((r) => r.VariantName === "Gated" && r.State === "Starting" && r.Pid !== undefined) &&
        byEndpoint("doomed").some((r) => r.State === "Stopping");
      return ready ? rows : undefined;
    }).then((rows) => (old = rows));
    for (const r of old) everyPid.add(r.Pid!);
  });

  after(async () => {
    await first?.stop("SIGKILL");
    await second?.cleanup();
    // Only if something above failed half-way can processes of either run be left; kill them.
    for (const r of await listInstances(second!).catch(() => [])) everyPid.add(r.Pid!);
    killGroups(everyPid);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("before the kill: steady is InService, slow Creating, rolling Updating, doomed Deleting, all with live processes", async () => {
    const sm = sagemaker(first!);
    assert.equal(await status(sm, "steady"), "InService");
    assert.equal(await status(sm, "slow"), "Creating");
    assert.equal(await status(sm, "doomed"), "Deleting");
    assert.equal(await status(sm, "rolling"), "Updating");
    assert.deepEqual(old.map((r) => r.EndpointName).sort(), ["doomed", "rolling", "rolling", "slow", "steady", "steady"]);
    for (const r of old) assert.ok(isAlive(r.Pid!), `${r.InstanceId} (pid ${r.Pid}) is alive`);
  });

  it("SIGKILL leaves the instances running: they are detached, in their own process groups", async () => {
    const code = await first!.stop("SIGKILL");
    assert.equal(code, null);
    assert.equal(first!.proc.signalCode, "SIGKILL");
    for (const r of old) assert.ok(isAlive(r.Pid!), `${r.InstanceId} (pid ${r.Pid}) outlived Sluice`);
    // Killed, the database was never closed: its WAL is still there (a clean shutdown removes it,
    // which restart-shutdown.test.ts relies on).
    assert.ok(existsSync(join(dataDir, "sluice.db-wal")));
  });

  it("the next start kills every process of the previous run before it serves", async () => {
    writeFileSync(gateFile, "open");
    second = await startSluice({ dataDir, keepData: true });
    for (const r of old) assert.equal(isAlive(r.Pid!), false, `${r.InstanceId} (pid ${r.Pid}) of the previous run is gone`);
  });

  it("steady is InService at once and comes back with two fresh instances that serve", async () => {
    const sm = sagemaker(second!);
    assert.equal(await status(sm, "steady"), "InService");
    const oldPids = new Set(old.map((r) => r.Pid!));
    const rows = await waitFor("two healthy instances of steady", async () => {
      const rows = await listInstances(second!, "steady");
      return rows.length === 2 && rows.every((r) => r.State === "Healthy") ? rows : undefined;
    });
    for (const r of rows) {
      everyPid.add(r.Pid!);
      assert.ok(!oldPids.has(r.Pid!), `pid ${r.Pid} is fresh`);
      assert.ok(isAlive(r.Pid!));
    }
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "steady" }));
    assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 2);
    const out = await runtime(second!).send(new InvokeEndpointCommand({ EndpointName: "steady", Body: new TextEncoder().encode("after restart") }));
    assert.equal(new TextDecoder().decode(out.Body), "after restart");
  });

  it("slow, which was Creating, resumes and becomes InService", async () => {
    const sm = sagemaker(second!);
    const waited = await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "slow" });
    assert.equal(waited.state, "SUCCESS");
    const rows = await listInstances(second!, "slow");
    assert.equal(rows.length, 1);
    everyPid.add(rows[0]!.Pid!);
    assert.notEqual(rows[0]!.Pid, old.find((r) => r.EndpointName === "slow")!.Pid);
    assert.equal(rows[0]!.State, "Healthy");
  });

  it("rolling, which was Updating, serves its old config first and then completes the rollout", async () => {
    const sm = sagemaker(second!);
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "rolling" }));
    assert.equal(d.EndpointStatus, "Updating");
    assert.equal(d.EndpointConfigName, "rolling-config");
    // The old config comes back first and serves while the new one is not healthy.
    await waitFor("rolling's old echo instance to serve again", async () => {
      const rows = await listInstances(second!, "rolling");
      return rows.some((r) => r.VariantName === "AllTraffic" && r.State === "Healthy" && r.InRotation) ? rows : undefined;
    });
    const out = await runtime(second!).send(new InvokeEndpointCommand({ EndpointName: "rolling", Body: new TextEncoder().encode("old config") }));
    assert.equal(out.InvokedProductionVariant, "AllTraffic");
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "rolling" }))).EndpointStatus, "Updating");
    writeFileSync(rollingGate, "open");
    const done = await waitFor("rolling to run rolling-config-v2", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "rolling" }));
      return d.EndpointStatus === "InService" && d.EndpointConfigName === "rolling-config-v2" ? d : undefined;
    });
    assert.equal(done.FailureReason, undefined);
    assert.deepEqual(done.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount]), [["Gated", 1]]);
    const rows = await waitFor("only the Gated instance of rolling", async () => {
      const rows = await listInstances(second!, "rolling");
      return rows.length === 1 ? rows : undefined;
    });
    everyPid.add(rows[0]!.Pid!);
    assert.equal(rows[0]!.VariantName, "Gated");
    assert.ok(!old.some((r) => r.Pid === rows[0]!.Pid));
  });

  it("doomed, which was Deleting, is deleted", async () => {
    const sm = sagemaker(second!);
    const waited = await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "doomed" });
    assert.equal(waited.state, "SUCCESS");
    await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: "doomed" })), { name: "ValidationException" });
    const all = await listInstances(second!);
    assert.deepEqual(all.map((r) => r.EndpointName).sort(), ["rolling", "slow", "steady", "steady"]);
  });
});
