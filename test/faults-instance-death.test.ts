// Issue 4: an instance that dies or hangs while sessions are open. Its sessions end as DESIGN §2's
// table says, after everything the container sent; sessions on the other instance carry on; the
// endpoint stays InService, comes back to its desired count, and the next sessions reach a new
// process. /metrics and `sluice instances` say what happened.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { isAlive, killGroups, listInstances, sagemaker } from "./helpers/control.js";
import { deployAt } from "./helpers/deploy.js";
import { connect, openSession, sample, scrape, type Session } from "./helpers/fault-harness.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

/** Opens `n` sessions (least-loaded routing spreads them) and asks each which process serves it. */
async function openMany(sluice: SluiceProcess, endpointName: string, n: number): Promise<{ session: Session; pid: number; instanceId: string }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const session = await openSession({ url: sluice.url, endpointName });
    assert.equal(session.status, 200);
    out.push({ session, ...(await session.info()) });
  }
  return out;
}

describe("an instance SIGKILLed mid-stream", () => {
  let sluice: SluiceProcess;
  const pids = new Set<number>();

  before(async () => {
    sluice = await startSluice({ args: ["--probe-interval", "300ms"] });
    await deployAt(sluice.url, "mortal", { instances: 2 });
  });
  after(async () => {
    await sluice?.cleanup();
    killGroups(pids);
  });

  it("breaks only its own sessions, after what it sent, naming the signal; a new process serves next", async () => {
    const sessions = await openMany(sluice, "mortal", 4);
    for (const s of sessions) pids.add(s.pid);
    assert.equal(new Set(sessions.map((s) => s.pid)).size, 2, "least-loaded routing used both instances");
    const victimPid = sessions[0]!.pid;
    const doomed = sessions.filter((s) => s.pid === victimPid);
    const spared = sessions.filter((s) => s.pid !== victimPid);
    assert.equal(doomed.length, 2);

    // `sluice instances` counts the open sessions live.
    const rows = await listInstances(sluice, "mortal");
    assert.deepEqual(rows.map((r) => r.ActiveSessions), [2, 2]);

    // A burst to each doomed session; kill while echoes are in flight.
    const burst = Array.from({ length: 40 }, (_, i) => `msg-${i}`);
    for (const { session } of doomed) for (const m of burst) await session.send(m);
    await waitFor("some echoes of the burst", () => (doomed.every(({ session }) => session.received.length > 5) ? true : undefined), 30_000, 5);
    process.kill(victimPid, "SIGKILL");

    for (const { session } of doomed) {
      await session.ended;
      const error = session.error;
      assert.ok(error?.kind === "ModelStreamError", JSON.stringify(error));
      assert.equal(error.ErrorCode, "StreamBroken");
      assert.match(error.Message, /exited with signal SIGKILL/);
      // Exactly what the container echoed, in order, then the error as the last message.
      const echoed = session.received.slice(1); // [0] is the info answer
      assert.deepEqual(echoed, burst.slice(0, echoed.length));
      assert.equal(session.kinds.at(-1), "stream-error");
      assert.equal(session.kinds.filter((k) => k === "stream-error").length, 1);
    }
    // The other instance's sessions never noticed.
    for (const { session } of spared) {
      assert.equal(session.isEnded(), false);
      await session.roundTrip("still here");
      await session.finish();
      assert.equal(session.error, undefined);
      assert.equal(session.received.at(-1), '{"type":"CloseStream"}');
    }

    const sm = sagemaker(sluice);
    const described = await waitFor("two healthy instances again", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "mortal" }));
      assert.equal(d.EndpointStatus, "InService", "InService throughout");
      return d.ProductionVariants?.[0]?.CurrentInstanceCount === 2 ? d : undefined;
    });
    assert.equal(described.ProductionVariants?.[0]?.DesiredInstanceCount, 2);
    sm.destroy();

    // Two sessions at once land one on each instance: one is a process never seen before.
    const next = await openMany(sluice, "mortal", 2);
    const fresh = next.filter((s) => !pids.has(s.pid));
    assert.equal(fresh.length, 1, `pids ${next.map((s) => s.pid)} vs seen ${[...pids]}`);
    assert.ok(isAlive(fresh[0]!.pid));
    for (const s of next) pids.add(s.pid);
    const after = await listInstances(sluice, "mortal");
    assert.deepEqual(after.map((r) => r.ActiveSessions), [1, 1]);
    assert.deepEqual(after.map((r) => r.Restarts).sort(), [0, 1]);
    for (const { session } of next) await session.finish();

    const metrics = await scrape(sluice.url);
    const labels = { endpoint: "mortal", variant: "AllTraffic" };
    assert.equal(sample(metrics, "sluice_sessions_started_total", labels), 6);
    assert.equal(sample(metrics, "sluice_sessions_active", labels), 0);
    assert.equal(sample(metrics, "sluice_session_errors_total", { ...labels, type: "ModelStreamError", code: "StreamBroken" }), 2);
    assert.equal(sample(metrics, "sluice_session_errors_total", labels), 2);
    assert.equal(sample(metrics, "sluice_instance_restarts_total", labels), 1);
    assert.equal(sample(metrics, "sluice_instances", { ...labels, state: "Healthy" }), 2);
    assert.equal(sample(metrics, "sluice_session_setup_model_seconds_count", labels), 6);
    assert.equal(sample(metrics, "sluice_session_setup_overhead_seconds_count", labels), 6);
    assert.equal(sample(metrics, "sluice_session_duration_seconds_count", labels), 6);
  });
});

describe("an instance stopped with SIGSTOP (no pongs, no /ping)", () => {
  let sluice: SluiceProcess;
  const pids = new Set<number>();

  before(async () => {
    // A stop grace far beyond the waits below: the hung instance must be killed without it.
    sluice = await startSluice({
      args: ["--ping-interval", "200ms", "--probe-interval", "300ms", "--probe-failures", "3", "--instance-stop-grace", "10m"],
    });
    await deployAt(sluice.url, "hangs", { instances: 2 });
  });
  after(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
    }
    await sluice?.cleanup();
    killGroups(pids);
  });

  it("its sessions end through the heartbeat rule; it is killed at once and replaced; the others carry on", async () => {
    const sessions = await openMany(sluice, "hangs", 4);
    for (const s of sessions) pids.add(s.pid);
    const victimPid = sessions[0]!.pid;
    const doomed = sessions.filter((s) => s.pid === victimPid);
    const spared = sessions.filter((s) => s.pid !== victimPid);
    assert.equal(doomed.length, 2);
    process.kill(victimPid, "SIGSTOP");

    for (const { session } of doomed) {
      await session.ended;
      const error = session.error;
      assert.ok(error?.kind === "ModelStreamError", JSON.stringify(error));
      assert.equal(error.ErrorCode, "ModelInvocationTimeExceeded");
      assert.equal(session.kinds.at(-1), "stream-error");
    }
    for (const { session } of spared) await session.roundTrip("unaffected");

    // Killed while the 10-minute SIGTERM grace would still be running: no grace for a hung instance.
    await waitFor("the hung instance to be killed", () => (isAlive(victimPid) ? undefined : true), 60_000);
    const rows = await waitFor("a healthy replacement", async () => {
      const r = await listInstances(sluice, "hangs");
      return r.length === 2 && r.every((x) => x.State === "Healthy" && x.Pid !== victimPid) ? r : undefined;
    });
    for (const r of rows) pids.add(r.Pid!);
    const sm = sagemaker(sluice);
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "hangs" }))).EndpointStatus, "InService");
    sm.destroy();

    for (const { session } of spared) {
      await session.roundTrip("still unaffected");
      await session.finish();
      assert.equal(session.error, undefined);
    }
    const metrics = await scrape(sluice.url);
    const labels = { endpoint: "hangs", variant: "AllTraffic" };
    assert.equal(sample(metrics, "sluice_session_errors_total", { ...labels, type: "ModelStreamError", code: "ModelInvocationTimeExceeded" }), 2);
    assert.equal(sample(metrics, "sluice_session_errors_total", labels), 2);
    // Each doomed session ended with --max-missed-pongs (5) pings unanswered in a row.
    assert.equal(sample(metrics, "sluice_missed_pongs_total", labels), 10);
    assert.ok(sample(metrics, "sluice_pongs_received_total", labels) > 0);
    assert.equal(sample(metrics, "sluice_instance_restarts_total", labels), 1);
  });
});
