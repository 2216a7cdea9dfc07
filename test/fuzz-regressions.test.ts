// Bugs the hostile-input fuzz test (fuzz-hostile.test.ts) found, one named test each, so each
// stays fixed without depending on the fuzzer's seed. (The HPACK-error connection that was never
// closed is in limits-http.test.ts, beside the header-list limit that leads to it.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { deployAt } from "./helpers/deploy.js";
import { startInProcess, type InProcessSluice } from "./helpers/in-process.js";
import { signRequest } from "../src/protocol/sigv4-sign-request.js";
import { STREAMING_PAYLOAD } from "../src/protocol/sigv4-verify-request.js";
import { RawH2 } from "./helpers/raw-h2.js";
import { openRawBidi, tamperSigned, utf8 } from "./helpers/raw-bidi.js";
import { TEST_KEY, waitFor } from "./helpers/sluice.js";

let sluice: InProcessSluice;

before(async () => {
  // FAST_SETTINGS give --close-grace 2s; a short PING interval finds dead connections quickly.
  sluice = await startInProcess(["--connection-ping-interval", "500ms"]);
  await deployAt(sluice.url, "echo");
});
after(async () => {
  await sluice?.cleanup();
});

// Found by the fuzzer as sockets left over after a batch: the session ended (an exception event,
// then END_STREAM from Sluice), but a client that never ends its own side kept the HTTP/2
// stream half-open, and with it the connection, for ever. Sluice now resets such a stream with
// NO_ERROR once the response is complete and the close grace has passed (RFC 9113 §8.1).
test("regression: a client that never ends its request after its session failed does not hold the stream or the connection", { timeout: 60_000 }, async () => {
  const session = http2.connect(sluice.url);
  session.on("error", () => {});
  const bidi = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY, session });
  assert.equal((await bidi.response)[":status"], 200);
  await bidi.send(utf8("tampered"), (e) => tamperSigned(e));
  const messages = await bidi.messages();
  assert.deepEqual(messages, [{ kind: "stream-error", error: { kind: "InternalStreamFailure", Message: "InvalidSignature" } }]);
  assert.equal(bidi.stream.writableEnded, false, "the client has not ended its request");

  const closed = new Promise<number>((resolve) => bidi.stream.once("close", () => resolve(bidi.stream.rstCode ?? -1)));
  assert.equal(await closed, http2.constants.NGHTTP2_NO_ERROR);
  // With its only stream gone, a graceful close of the connection completes.
  await new Promise<void>((resolve) => session.close(resolve));
  await waitFor("the connection to be gone", () => (sluice.server.stats().connections === 0 ? true : undefined), 10_000, 20);
  assert.equal(sluice.server.stats().openSessions, 0);
});

// Found by the fuzz test's random HTTP/2 frames: after a protocol error on a connection (here an
// HPACK error), nghttp2 sends GOAWAY and Node stops reading it, but reports nothing. A bidi
// session open on that connection kept its slot, its container WebSocket and the connection for
// ever, even after the client closed its socket: enough of these and every new session gets 503.
// The listener's PING probe now finds the dead connection and destroys it with its streams.
test("regression: a bidi session on a connection whose HTTP/2 state gave up is ended and its slot released", { timeout: 60_000 }, async () => {
  const { host } = new URL(sluice.url);
  const path = "/endpoints/echo/invocations-bidirectional-stream";
  const signed = await signRequest({
    method: "POST",
    path,
    headers: { ":authority": host, "content-type": "application/vnd.amazon.eventstream", "x-amz-content-sha256": STREAMING_PAYLOAD },
    region: "us-east-1",
    credentials: TEST_KEY,
  });
  const rest = Object.entries(signed.headers).filter(([name]) => name !== ":authority");
  const h2 = await RawH2.connect(sluice.url);
  try {
    const id = h2.request([[":method", "POST"], [":scheme", "http"], [":path", path], [":authority", host], ...rest]);
    await h2.until(() => h2.streams.get(id)!.responded, "the session's 200");
    assert.equal(sluice.server.stats().leasedSessions, 1);
    h2.request([[":method", "GET"], [":scheme", "http"], [":path", "/healthz"], [":authority", host], ["x-huge", "h".repeat(128 * 1024)]], { endStream: true });
    await h2.until(() => h2.goaway !== undefined, "GOAWAY");
    // The client stays connected and silent; Sluice must let go on its own.
    await h2.whenClosed();
  } finally {
    h2.close();
  }
  await waitFor(
    "the session and the connection to be gone",
    () => {
      const s = sluice.server.stats();
      return s.openSessions === 0 && s.leasedSessions === 0 && s.connections === 0 ? true : undefined;
    },
    20_000,
    20,
  );
});

// Found while writing the window-exhaustion case: a client that stops reading while the model
// answers holds its session for ever even with --idle-timeout, because the IdleTimeout exception
// queued behind the output it does not read and the session never ended. Now the idle timeout
// cancels the stream of a client that is not reading, which closes the container's side.
test("regression: --idle-timeout lets go of a client that stopped reading", { timeout: 60_000 }, async () => {
  const idle = await startInProcess(["--idle-timeout", "1s"]);
  try {
    await deployAt(idle.url, "echo");
    const session = http2.connect(idle.url, { settings: { initialWindowSize: 1024 } });
    session.on("error", () => {});
    const bidi = await openRawBidi({ url: idle.url, endpointName: "echo", credentials: TEST_KEY, session });
    assert.equal((await bidi.response)[":status"], 200);
    bidi.stream.pause();
    // More than the 1 KiB window comes back; the client reads none of it and ends nothing.
    await bidi.send(utf8("x".repeat(64 * 1024)));
    const rst = await new Promise<number | undefined>((resolve) => bidi.stream.once("close", () => resolve(bidi.stream.rstCode)));
    assert.equal(rst, http2.constants.NGHTTP2_CANCEL);
    await waitFor(
      "the session to be gone",
      () => {
        const s = idle.server.stats();
        return s.openSessions === 0 && s.leasedSessions === 0 && s.bufferedBytes === 0 ? true : undefined;
      },
      20_000,
      20,
    );
    session.destroy();
  } finally {
    await idle.cleanup();
  }
});
