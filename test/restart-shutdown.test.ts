// Issue 2 scope 2: SIGTERM and SIGINT shut Sluice down cleanly — exit code 0, every instance
// process gone (one that ignores SIGTERM included), the database closed (its WAL checkpointed
// away, as only a clean close does) — and the next start on the same data dir serves again.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  waitUntilEndpointInService,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { IGNORES_SIGTERM_MODEL, isAlive, killGroups, listInstances, sagemaker, writeLocalModel, type InstanceRow } from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

/** True while any process of the group led by `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function deploy(sm: SageMakerClient, name: string, image: string, count: number): Promise<void> {
  await sm.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: image } }));
  await sm.send(
    new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: "AllTraffic", ModelName: name, InitialInstanceCount: count }] }),
  );
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: name });
}

describe("SIGTERM and SIGINT shut Sluice down cleanly", () => {
  let dataDir: string;
  let scratch: string;
  const runs: SluiceProcess[] = [];
  const everyPid = new Set<number>();

  /** Starts Sluice on the shared data dir and waits until `expected` instances are healthy. */
  async function start(expected: number): Promise<{ sluice: SluiceProcess; instances: InstanceRow[] }> {
    const sluice = await startSluice({ dataDir, keepData: true });
    runs.push(sluice);
    const instances = await waitFor(`${expected} healthy instances`, async () => {
      const rows = await listInstances(sluice);
      return rows.length === expected && rows.every((r) => r.State === "Healthy") ? rows : undefined;
    });
    for (const r of instances) everyPid.add(r.Pid!);
    return { sluice, instances };
  }

  function assertCleanlyStopped(instances: InstanceRow[]): void {
    for (const r of instances) {
      assert.equal(isAlive(r.Pid!), false, `${r.InstanceId} (pid ${r.Pid}) is gone`);
      assert.equal(groupAlive(r.Pid!), false, `nothing of ${r.InstanceId}'s process group is left`);
    }
    // In WAL mode only a clean close checkpoints the log into the database and removes it.
    assert.equal(existsSync(join(dataDir, "sluice.db-wal")), false, "sluice.db-wal was checkpointed away: the database was closed");
    const db = new Database(join(dataDir, "sluice.db"), { fileMustExist: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      // Nobody holds the database any more: a write transaction can begin.
      db.exec("BEGIN EXCLUSIVE; ROLLBACK;");
    } finally {
      db.close();
    }
  }

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "sluice-shutdown-"));
    scratch = mkdtempSync(join(tmpdir(), "sluice-shutdown-models-"));
  });
  after(async () => {
    for (const run of runs) await run.cleanup();
    killGroups(everyPid);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("SIGTERM: exit code 0, no instance left (even one that ignores SIGTERM), database closed", async () => {
    const first = await startSluice({ dataDir, keepData: true });
    runs.push(first);
    const sm = sagemaker(first);
    await deploy(sm, "echo", "sluice/echo", 2);
    await deploy(sm, "stubborn", writeLocalModel(scratch, "stubborn", IGNORES_SIGTERM_MODEL), 1);
    const instances = await listInstances(first);
    assert.equal(instances.length, 3);
    for (const r of instances) {
      everyPid.add(r.Pid!);
      assert.ok(isAlive(r.Pid!));
    }
    assert.equal(await first.stop("SIGTERM"), 0);
    assertCleanlyStopped(instances);
  });

  it("the next start serves the same endpoints; SIGINT then stops it as cleanly", async () => {
    const before = [...everyPid];
    const { sluice, instances } = await start(3);
    for (const r of instances) assert.ok(!before.includes(r.Pid!), `pid ${r.Pid} is fresh`);
    const sm = sagemaker(sluice);
    for (const name of ["echo", "stubborn"]) {
      assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus, "InService");
    }
    assert.equal(await sluice.stop("SIGINT"), 0);
    assertCleanlyStopped(instances);
  });
});
