// Issue 4 scope 1: an instance that refuses WebSocket upgrades, and one that accepts them slower
// than --ws-connect-timeout. The session that hit it gets 424 ModelError naming the instance's
// log; the instance leaves rotation, so the next sessions go to the other instance; three
// failures in a row get it replaced.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { killGroups, listInstances, writeLocalModel } from "./helpers/control.js";
import { deployAt } from "./helpers/deploy.js";
import { openSession, sample, scrape, type Session } from "./helpers/fault-harness.js";
import { REPO_ROOT, startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const ECHO_MAIN = join(REPO_ROOT, "dist", "models", "echo", "main.js");

/**
 * Two instances of one model, told apart at start: the first to create LOCK_FILE misbehaves on
 * every WebSocket upgrade (MODE refuse: HTTP 503; MODE hold: never answers), the other is the echo
 * model. /ping is 200 on both, so only the upgrade tells them apart.
 */
const SPLIT_MODEL = `
import { openSync } from "node:fs";
import { createServer } from "node:http";
let misbehave = false;
try { openSync(process.env.LOCK_FILE, "wx"); misbehave = true; } catch {}
if (!misbehave) {
  await import(${JSON.stringify(ECHO_MAIN)});
} else {
  const held = [];
  const server = createServer((req, res) => res.writeHead(200).end());
  server.on("upgrade", (req, socket) => {
    socket.on("error", () => {});
    console.log("misbehaving (" + process.env.MODE + "): upgrade to " + req.url);
    if (process.env.MODE === "hold") { held.push(socket); return; }
    socket.end("HTTP/1.1 503 Service Unavailable\\r\\ncontent-type: text/plain\\r\\ncontent-length: 10\\r\\nconnection: close\\r\\n\\r\\nmodel busy");
  });
  server.listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
}
`;

const BIDI_MANIFEST = {
  labels: { "com.amazonaws.sagemaker.capabilities.bidirectional-streaming": "true" },
};

describe("instances whose WebSocket upgrade fails", () => {
  let sluice: SluiceProcess;
  let scratch: string;
  const pids = new Set<number>();

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-upgrade-"));
    const image = writeLocalModel(scratch, "split", SPLIT_MODEL, BIDI_MANIFEST);
    // A long quarantine, so "the next sessions go elsewhere" cannot be luck of timing.
    sluice = await startSluice({ args: ["--ws-connect-timeout", "1s", "--instance-quarantine", "5m"] });
    await Promise.all([
      deployAt(sluice.url, "refuser", { image, instances: 2, environment: { LOCK_FILE: join(scratch, "refuser.lock"), MODE: "refuse" } }),
      deployAt(sluice.url, "slowpoke", { image, instances: 2, environment: { LOCK_FILE: join(scratch, "slowpoke.lock"), MODE: "hold" } }),
    ]);
    for (const r of await listInstances(sluice)) pids.add(r.Pid!);
  });
  after(async () => {
    await sluice?.cleanup();
    killGroups(pids);
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const [endpoint, mode] of [["refuser", "refuses the upgrade with 503"], ["slowpoke", "never completes the upgrade"]] as const) {
    it(`an instance that ${mode}: 424 ModelError for that session, the next ones go to the other instance`, async () => {
      const open: Session[] = [];
      const answers: { status: number; body?: Record<string, unknown>; errorType?: string }[] = [];
      // Sessions stay open, so least-loaded routing must try the bad instance within two tries.
      for (let i = 0; i < 6; i++) {
        const s = await openSession({ url: sluice.url, endpointName: endpoint });
        if (s.status === 200) open.push(s);
        answers.push({ status: s.status, errorType: s.headers["x-amzn-errortype"] as string | undefined, body: s.status === 200 ? undefined : await s.errorBody() });
      }
      const failures = answers.filter((a) => a.status !== 200);
      assert.equal(failures.length, 1, JSON.stringify(answers));
      const failure = failures[0]!;
      assert.equal(failure.status, 424);
      assert.equal(failure.errorType, "ModelError");
      assert.match(String(failure.body?.LogStreamArn), new RegExp(`log-group:/aws/sagemaker/Endpoints/${endpoint}:log-stream:AllTraffic/`));
      if (endpoint === "refuser") {
        assert.equal(failure.body?.OriginalStatusCode, 503);
        assert.match(String(failure.body?.OriginalMessage), /model busy/);
      } else {
        assert.match(String(failure.body?.Message), /did not accept the WebSocket .* within 1000 ms/);
      }
      // Every session that got a 200 is on the one good instance.
      const served = new Set<number>();
      for (const s of open) served.add((await s.info()).pid);
      assert.equal(served.size, 1);
      const rows = await listInstances(sluice, endpoint);
      const good = rows.find((r) => served.has(r.Pid!))!;
      const bad = rows.find((r) => r !== good)!;
      assert.equal(good.ActiveSessions, 5);
      assert.equal(bad.ActiveSessions, 0);
      for (const s of open) await s.finish();

      const metrics = await scrape(sluice.url);
      assert.equal(sample(metrics, "sluice_request_errors_total", { endpoint, type: "ModelError" }), 1);
      assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint }), 5);
    });
  }

  it("three failed upgrades in a row get the instance replaced (regression: a later good /ping put it back in rotation for ever)", async () => {
    // A fresh Sluice with no quarantine: every session may try the bad instance again.
    const quick = await startSluice({ args: ["--instance-quarantine", "0ms", "--probe-interval", "300ms"] });
    try {
      const image = writeLocalModel(scratch, "split2", SPLIT_MODEL, BIDI_MANIFEST);
      await deployAt(quick.url, "thrice", { image, instances: 1, environment: { LOCK_FILE: join(scratch, "thrice.lock"), MODE: "refuse" } });
      const [bad] = await listInstances(quick, "thrice");
      pids.add(bad!.Pid!);
      for (let i = 0; i < 3; i++) {
        const s = await openSession({ url: quick.url, endpointName: "thrice" });
        assert.equal(s.status, 424);
      }
      // The replacement finds the lock taken: it is the echo model, and serves.
      const rows = await waitFor("a replacement instance", async () => {
        const r = await listInstances(quick, "thrice");
        return r.length === 1 && r[0]!.InstanceId !== bad!.InstanceId && r[0]!.State === "Healthy" ? r : undefined;
      });
      pids.add(rows[0]!.Pid!);
      assert.equal(rows[0]!.Restarts, 1);
      const s = await openSession({ url: quick.url, endpointName: "thrice" });
      assert.equal(s.status, 200);
      assert.equal((await s.info()).pid, rows[0]!.Pid);
      await s.finish();
      assert.equal(sample(await scrape(quick.url), "sluice_instance_restarts_total", { endpoint: "thrice" }), 1);
    } finally {
      await quick.cleanup();
    }
  });
});
