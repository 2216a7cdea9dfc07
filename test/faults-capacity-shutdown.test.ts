// Issue 4: the per-instance session cap (503 once full, never spilling into another variant,
// admitting again when a session ends or is cancelled), and SIGTERM with sessions open (no new
// sessions, open ones complete within the drain deadline or get DrainDeadlineExceeded, exit 0,
// no instance process left).
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { isAlive, killGroups, listInstances } from "./helpers/control.js";
import { deployAt } from "./helpers/deploy.js";
import { openSession, sample, scrape, type Session } from "./helpers/fault-harness.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const pids = new Set<number>();
const runs: SluiceProcess[] = [];
after(async () => {
  for (const r of runs) await r.cleanup();
  killGroups(pids);
});

async function opened(sluice: SluiceProcess, endpointName: string, target?: string): Promise<Session> {
  const s = await openSession({ url: sluice.url, endpointName, headers: target ? { "x-amzn-sagemaker-target-variant": target } : undefined });
  assert.equal(s.status, 200, `status ${s.status}`);
  pids.add((await s.info()).pid);
  return s;
}

describe("the per-instance session cap", () => {
  it("gives 503 once full, never spills into another variant, and admits again when a session ends", async () => {
    const sluice = await startSluice({ args: ["--max-sessions-per-instance", "2"] });
    runs.push(sluice);
    await deployAt(sluice.url, "capped", { variants: [{ name: "main", weight: 1 }, { name: "spare", weight: 0 }] });
    const labels = { endpoint: "capped", variant: "main" };
    const first = await opened(sluice, "capped");
    const second = await opened(sluice, "capped");

    const full = await openSession({ url: sluice.url, endpointName: "capped" });
    assert.equal(full.status, 503);
    assert.equal(full.headers["x-amzn-errortype"], "ServiceUnavailableError");
    assert.equal((await full.errorBody()).Message, "Every instance of variant main of endpoint capped is at its limit of 2 sessions.");
    // The spare variant has room, and takes targeted sessions only: the full one did not spill.
    const spare = await opened(sluice, "capped", "spare");
    assert.equal(spare.headers["x-amzn-invoked-production-variant"], "spare");
    const [main] = (await listInstances(sluice, "capped")).filter((r) => r.VariantName === "main");
    assert.equal(main!.ActiveSessions, 2);

    // A session that ends frees its slot…
    await first.finish();
    const third = await opened(sluice, "capped");
    assert.equal((await openSession({ url: sluice.url, endpointName: "capped" })).status, 503);
    // …and so does a client cancel (RST_STREAM), in the cap and in the active-sessions gauge.
    third.cancel();
    await third.ended;
    const fourth = await waitFor("a slot after the cancel", async () => {
      const s = await openSession({ url: sluice.url, endpointName: "capped" });
      return s.status === 200 ? s : undefined;
    });
    await fourth.roundTrip("admitted");

    const metrics = await scrape(sluice.url);
    assert.equal(sample(metrics, "sluice_request_errors_total", { endpoint: "capped", type: "ServiceUnavailableError" }), 2);
    assert.equal(sample(metrics, "sluice_sessions_started_total", labels), 4);
    assert.equal(sample(metrics, "sluice_sessions_active", labels), 2);
    assert.equal(sample(metrics, "sluice_sessions_active", { endpoint: "capped", variant: "spare" }), 1);
    for (const s of [second, fourth, spare]) await s.finish();
    const end = await scrape(sluice.url);
    // Bytes each way, to the byte: what the main variant's clients sent, and what they received.
    const onMain = [first, second, third, fourth];
    const bytes = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    assert.equal(sample(end, "sluice_payload_bytes_total", { ...labels, direction: "in" }), bytes(onMain.flatMap((s) => s.sent)));
    assert.equal(sample(end, "sluice_payload_bytes_total", { ...labels, direction: "out" }), bytes(onMain.flatMap((s) => s.received)));
    assert.equal(sample(end, "sluice_payload_parts_total", { ...labels, direction: "out" }), onMain.flatMap((s) => s.received).length);
    assert.equal(sample(end, "sluice_sessions_active", { endpoint: "capped" }), 0);
    assert.equal(sample(end, "sluice_session_errors_total", { endpoint: "capped" }), 0);
    assert.equal(sample(end, "sluice_payload_parts_total", { ...labels, direction: "in" }), 7, "info and CloseStream from first and second, info from third, admitted and CloseStream from fourth");
  });
});

describe("SIGTERM with sessions open", () => {
  it("refuses new sessions, lets open ones complete within the deadline, expires the rest, exits 0 with no instance left", async () => {
    const sluice = await startSluice({ args: ["--drain-deadline", "4s"] });
    runs.push(sluice);
    await deployAt(sluice.url, "closing", { instances: 2 });
    const instancePids = (await listInstances(sluice, "closing")).map((r) => r.Pid!);
    for (const p of instancePids) pids.add(p);
    const polite = [await opened(sluice, "closing"), await opened(sluice, "closing")];
    const lingering = await opened(sluice, "closing");
    const ready = await fetch(new URL("/readyz", sluice.url));
    assert.equal(ready.status, 200);

    const exited = once(sluice.proc, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    sluice.proc.kill("SIGTERM");
    await waitFor("/readyz to say shutting down", async () => ((await fetch(new URL("/readyz", sluice.url))).status === 503 ? true : undefined), 10_000, 20);
    const refused = await openSession({ url: sluice.url, endpointName: "closing" });
    assert.equal(refused.status, 503);
    assert.equal((await refused.errorBody()).Message, "Sluice is shutting down; no new sessions are accepted.");

    // Open sessions carry on, and end cleanly when their clients end them.
    for (const s of polite) {
      await s.roundTrip("after SIGTERM");
      await s.finish();
      assert.equal(s.error, undefined);
      assert.equal(s.received.at(-1), '{"type":"CloseStream"}');
    }
    await lingering.roundTrip("never finishes");
    await lingering.ended;
    assert.deepEqual(lingering.error, {
      kind: "ModelStreamError",
      ErrorCode: "DrainDeadlineExceeded",
      Message: "the session was still open 4000 ms after draining began",
    });
    assert.deepEqual(lingering.received.slice(1), ["never finishes"]);

    const [code, signal] = await exited;
    assert.equal(code, 0, `exit ${code} ${signal}`);
    for (const p of instancePids) assert.equal(isAlive(p), false, `instance pid ${p} is gone`);
  });
});
