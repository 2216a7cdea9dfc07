// Regression: a client whose connection went away while Sluice still had a large response
// part to send it. Node closed the HTTP/2 stream but, with that write pending, neither
// destroyed it nor emitted 'close', so the session never ended: its routing lease leaked
// (sluice_sessions_total_active stayed 1) and SIGTERM hung forever draining it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { binary, connect, RawBidi, text, textOf } from "./helpers/bidi.js";
import { controlClient, deployEndpoint, fetchMetric } from "./helpers/deploy.js";
import { startSluice, waitFor } from "./helpers/sluice.js";

test("a client gone with a 12 MiB echo pending: the session ends, its slot is freed, and SIGTERM exits", async () => {
  const sluice = await startSluice();
  let instancePid: number | undefined;
  try {
    const sm = controlClient(sluice.url);
    await deployEndpoint(sm, { name: "echo", image: "sluice/echo" });
    sm.destroy();
    const session = await connect(sluice.url);
    const s = await RawBidi.open(session, sluice.url, { endpointName: "echo" });
    assert.equal((await s.response).status, 200);
    const size = 12 * 1024 * 1024;
    await s.send(binary(randomBytes(size)));
    // The echo came back and Sluice is writing it to a client that reads nothing.
    await waitFor("the echo to reach Sluice's side of the client stream", async () =>
      (await fetchMetric(sluice.url, "sluice_payload_bytes_total", { endpoint: "echo", direction: "out" })) >= size ? true : undefined,
    );
    assert.equal(await fetchMetric(sluice.url, "sluice_sessions_total_active"), 1);
    // A second session on the same connection runs to its end meanwhile.
    const other = await RawBidi.open(session, sluice.url, { endpointName: "echo" });
    const answered = other.collect();
    await other.send(text('{"type":"sluice.echo.info"}'));
    await other.send(text('{"type":"CloseStream"}'));
    await other.end();
    const { messages } = await answered;
    assert.equal(messages.length, 2);
    instancePid = (JSON.parse(textOf(messages[0])) as { pid: number }).pid;
    session.destroy();
    await waitFor("the session to end", async () =>
      (await fetchMetric(sluice.url, "sluice_sessions_total_active")) === 0 ? true : undefined,
    30_000, 50);
    assert.equal(await fetchMetric(sluice.url, "sluice_session_buffered_bytes"), 0);
    // Before the fix this never settled: cap it, so the test fails instead of hanging.
    const exit = await Promise.race([sluice.stop("SIGTERM"), new Promise((r) => setTimeout(() => r("still running"), 20_000).unref())]);
    assert.equal(exit, 0);
  } finally {
    if (sluice.proc.exitCode === null && sluice.proc.signalCode === null) {
      // Only on failure: Sluice could not stop, so neither could its instance.
      sluice.proc.kill("SIGKILL");
      if (instancePid !== undefined) process.kill(instancePid, "SIGKILL");
    }
    await sluice.cleanup();
  }
});
