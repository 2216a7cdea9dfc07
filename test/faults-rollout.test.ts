// Issue 4 scope 4: changing an endpoint never drops a session. UpdateEndpoint switches new
// sessions to the new configuration and lets old sessions run until their clients end them (or
// the drain deadline ends them with DrainDeadlineExceeded); UpdateEndpointWeightsAndCapacities
// moves new sessions at once and scales in the same graceful way; DeleteEndpoint refuses new
// sessions and drains the open ones. Old instances stop only after their sessions.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { isAlive, killGroups, listInstances, sagemaker } from "./helpers/control.js";
import { deployAt } from "./helpers/deploy.js";
import { connect, openSession, sample, scrape, type Session } from "./helpers/fault-harness.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

async function open(sluice: SluiceProcess, endpointName: string, target?: string): Promise<Session & { pid: number; variant: string }> {
  const s = await openSession({ url: sluice.url, endpointName, headers: target ? { "x-amzn-sagemaker-target-variant": target } : undefined });
  assert.equal(s.status, 200, `status ${s.status}`);
  const { pid } = await s.info();
  return Object.assign(s, { pid, variant: String(s.headers["x-amzn-invoked-production-variant"]) });
}

/** A second config for `name` with one variant `variant` of the echo model. */
async function newConfig(sm: SageMakerClient, name: string, variant: string): Promise<string> {
  await sm.send(new CreateModelCommand({ ModelName: `${name}-${variant}`, PrimaryContainer: { Image: "sluice/echo" } }));
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-${variant}`,
      ProductionVariants: [{ VariantName: variant, ModelName: `${name}-${variant}`, InitialInstanceCount: 1, InitialVariantWeight: 1 }],
    }),
  );
  return `${name}-${variant}`;
}

async function servingVariants(sm: SageMakerClient, name: string): Promise<string[] | undefined> {
  const d = await sm.send(new DescribeEndpointCommand({ EndpointName: name }));
  return d.EndpointStatus === "InService" ? (d.ProductionVariants ?? []).map((v) => v.VariantName!) : undefined;
}

describe("rollout, scaling and delete with sessions open", () => {
  let sluice: SluiceProcess;
  let short: SluiceProcess;
  let sm: SageMakerClient;
  const pids = new Set<number>();

  before(async () => {
    // A drain deadline no test reaches, so every session ends when its client says so…
    [sluice, short] = await Promise.all([
      startSluice({ args: ["--drain-deadline", "5m", "--probe-interval", "300ms"] }),
      // …and one that the second test waits out.
      startSluice({ args: ["--drain-deadline", "2s", "--probe-interval", "300ms"] }),
    ]);
    sm = sagemaker(sluice);
  });
  after(async () => {
    sm?.destroy();
    await sluice?.cleanup();
    await short?.cleanup();
    killGroups(pids);
  });

  it("UpdateEndpoint while 20 sessions stream: each ends when its client ends it; new sessions land on the new variant", async () => {
    await deployAt(sluice.url, "roll", { variants: [{ name: "blue" }] });
    const old: (Session & { pid: number; variant: string })[] = [];
    for (let i = 0; i < 20; i++) old.push(await open(sluice, "roll"));
    const oldPid = old[0]!.pid;
    pids.add(oldPid);
    assert.ok(old.every((s) => s.pid === oldPid && s.variant === "blue"));

    await sm.send(new UpdateEndpointCommand({ EndpointName: "roll", EndpointConfigName: await newConfig(sm, "roll", "green") }));
    // Streaming goes on throughout the rollout.
    let round = 0;
    await waitFor("the rollout to switch to green", async () => {
      round++;
      await Promise.all(old.map((s, i) => s.roundTrip(`during-${round}-${i}`)));
      return (await servingVariants(sm, "roll"))?.join() === "green" ? true : undefined;
    });

    const fresh = [];
    for (let i = 0; i < 5; i++) fresh.push(await open(sluice, "roll"));
    for (const s of fresh) {
      pids.add(s.pid);
      assert.equal(s.variant, "green");
      assert.notEqual(s.pid, oldPid);
    }
    // The old instance keeps its sessions, and nothing new, until the last one ends.
    const rows = await listInstances(sluice, "roll");
    assert.equal(rows.find((r) => r.Pid === oldPid)?.ActiveSessions, 20);
    assert.equal(rows.find((r) => r.Pid === oldPid)?.InRotation, false);
    for (const [i, s] of old.entries()) {
      assert.equal(s.isEnded(), false, `old session ${i} still open until its client ends it`);
      assert.equal((await s.info()).pid, oldPid);
      await s.roundTrip(`last-${i}`);
      await s.finish();
      assert.equal(s.error, undefined);
      assert.equal(s.received.at(-1), '{"type":"CloseStream"}');
      if (i < old.length - 1) assert.ok(isAlive(oldPid), "the old instance outlives its sessions");
    }
    await waitFor("the old instance to stop", () => (isAlive(oldPid) ? undefined : true));
    for (const s of fresh) {
      await s.roundTrip("after");
      await s.finish();
      assert.equal(s.error, undefined);
    }
    const metrics = await scrape(sluice.url);
    assert.equal(sample(metrics, "sluice_session_errors_total", { endpoint: "roll" }), 0);
    assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint: "roll", variant: "blue" }), 20);
    assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint: "roll", variant: "green" }), 5);
    assert.equal(sample(metrics, "sluice_instance_restarts_total", { endpoint: "roll" }), 0, "a retired instance is no restart");
  });

  it("a session still open past the drain deadline gets DrainDeadlineExceeded, after everything it was sent (regression: its Message said 0 ms)", async () => {
    const sm2 = sagemaker(short);
    try {
      await deployAt(short.url, "late", { variants: [{ name: "blue" }] });
      const lingering = [await open(short, "late"), await open(short, "late")];
      const oldPid = lingering[0]!.pid;
      pids.add(oldPid);
      for (const s of lingering) await s.roundTrip("before the update");
      await sm2.send(new UpdateEndpointCommand({ EndpointName: "late", EndpointConfigName: await newConfig(sm2, "late", "green") }));
      for (const s of lingering) {
        await s.ended;
        assert.deepEqual(s.error, {
          kind: "ModelStreamError",
          ErrorCode: "DrainDeadlineExceeded",
          Message: "the session was still open 2000 ms after draining began",
        });
        assert.deepEqual(s.received.slice(1), ["before the update"]);
        assert.equal(s.kinds.at(-1), "stream-error");
      }
      await waitFor("the old instance to stop", () => (isAlive(oldPid) ? undefined : true));
      const next = await open(short, "late");
      assert.equal(next.variant, "green");
      pids.add(next.pid);
      await next.finish();
      const metrics = await scrape(short.url);
      assert.equal(sample(metrics, "sluice_session_errors_total", { endpoint: "late", type: "ModelStreamError", code: "DrainDeadlineExceeded" }), 2);
    } finally {
      sm2.destroy();
    }
  });

  it("UpdateEndpointWeightsAndCapacities: weights apply to the next session; scale-in drains the retired instance", async () => {
    await deployAt(sluice.url, "dial", { variants: [{ name: "a", weight: 1, instances: 2 }, { name: "b", weight: 0, instances: 1 }] });
    // One session on each instance of a (least-loaded), pinned there.
    const onA = [await open(sluice, "dial"), await open(sluice, "dial")];
    assert.deepEqual(onA.map((s) => s.variant), ["a", "a"]);
    assert.equal(new Set(onA.map((s) => s.pid)).size, 2);
    for (const s of onA) pids.add(s.pid);

    await sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: "dial",
        DesiredWeightsAndCapacities: [{ VariantName: "a", DesiredWeight: 0, DesiredInstanceCount: 1 }, { VariantName: "b", DesiredWeight: 1 }],
      }),
    );
    // No waiting: the very next sessions follow the new weights.
    for (let i = 0; i < 10; i++) {
      const s = await open(sluice, "dial");
      assert.equal(s.variant, "b");
      pids.add(s.pid);
      await s.finish();
    }
    // Scale-in: one of a's instances is retired, but not before its session ends.
    const retiring = await waitFor("a's extra instance to be draining", async () => {
      const rows = (await listInstances(sluice, "dial")).filter((r) => r.VariantName === "a");
      return rows.find((r) => r.State === "Draining");
    });
    assert.equal(retiring.ActiveSessions, 1);
    const [drained, kept] = onA[0]!.pid === retiring.Pid ? [onA[0]!, onA[1]!] : [onA[1]!, onA[0]!];
    await drained.roundTrip("draining but open");
    assert.ok(isAlive(retiring.Pid!));
    await drained.finish();
    assert.equal(drained.error, undefined);
    await waitFor("the retired instance to stop", () => (isAlive(retiring.Pid!) ? undefined : true));
    await waitFor("the endpoint InService at a:1 b:1", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "dial" }));
      const counts = (d.ProductionVariants ?? []).map((v) => `${v.VariantName}:${v.CurrentInstanceCount}:${v.CurrentWeight}`).join();
      return d.EndpointStatus === "InService" && counts === "a:1:0,b:1:1" ? true : undefined;
    });
    await kept.roundTrip("kept");
    await kept.finish();
    assert.equal(kept.error, undefined);
  });

  it("DeleteEndpoint refuses new sessions and drains the open ones", async () => {
    await deployAt(sluice.url, "doomed");
    const s = await open(sluice, "doomed");
    pids.add(s.pid);
    await sm.send(new DeleteEndpointCommand({ EndpointName: "doomed" }));
    const refused = await openSession({ url: sluice.url, endpointName: "doomed" });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers["x-amzn-errortype"], "InputValidationError");
    assert.match(String((await refused.errorBody()).Message), /not in service \(status Deleting\)|not found/);
    await s.roundTrip("still served while Deleting");
    assert.ok(isAlive(s.pid));
    await s.finish();
    assert.equal(s.error, undefined);
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: "doomed" });
    await waitFor("the instance to stop", () => (isAlive(s.pid) ? undefined : true));
    const metrics = await scrape(sluice.url);
    assert.equal(sample(metrics, "sluice_request_errors_total", { endpoint: "doomed", type: "InputValidationError" }), 1);
  });
});
