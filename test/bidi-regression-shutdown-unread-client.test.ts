// Regression: SIGTERM while a connected client read nothing of a pending response. The drain
// deadline decided DrainDeadlineExceeded, but that error waited behind the unread bytes, so the
// session never ended and Sluice never exited.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { binary, connect, RawBidi, text, textOf } from "./helpers/bidi.js";
import { controlClient, deployEndpoint, fetchMetric } from "./helpers/deploy.js";
import { startSluice, waitFor } from "./helpers/sluice.js";

test("SIGTERM with a client that reads nothing of a 12 MiB echo: Sluice resets it after the drain deadline and exits 0", async () => {
  // FAST_SETTINGS: --drain-deadline 5s, --close-grace 2s.
  const sluice = await startSluice();
  const session = await connect(sluice.url);
  let instancePid: number | undefined;
  try {
    const sm = controlClient(sluice.url);
    await deployEndpoint(sm, { name: "echo", image: "sluice/echo" });
    sm.destroy();
    const info = await RawBidi.open(session, sluice.url, { endpointName: "echo" });
    const answered = info.collect();
    await info.send(text('{"type":"sluice.echo.info"}'));
    await info.send(text('{"type":"CloseStream"}'));
    await info.end();
    instancePid = (JSON.parse(textOf((await answered).messages[0])) as { pid: number }).pid;

    const s = await RawBidi.open(session, sluice.url, { endpointName: "echo" });
    assert.equal((await s.response).status, 200);
    const size = 12 * 1024 * 1024;
    await s.send(binary(randomBytes(size)));
    await waitFor("the echo to reach Sluice's side of the client stream", async () =>
      (await fetchMetric(sluice.url, "sluice_payload_bytes_total", { endpoint: "echo", direction: "out" })) >= size ? true : undefined,
    );
    const reset = new Promise<number | undefined>((resolve) => s.stream.once("close", () => resolve(s.stream.rstCode)));
    // Before the fix this never settled: cap it, so the test fails instead of hanging.
    const exit = await Promise.race([sluice.stop("SIGTERM"), new Promise((r) => setTimeout(() => r("still running"), 30_000).unref())]);
    assert.equal(exit, 0);
    // The client's stream was cut (reset, or the connection closed under it), never finished.
    await reset;
    assert.equal(s.stream.readableEnded, false);
  } finally {
    session.destroy();
    if (sluice.proc.exitCode === null && sluice.proc.signalCode === null) {
      // Only on failure: Sluice could not stop, so neither could its instance.
      sluice.proc.kill("SIGKILL");
      if (instancePid !== undefined) process.kill(instancePid, "SIGKILL");
    }
    await sluice.cleanup();
  }
});
