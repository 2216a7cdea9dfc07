// Bugs the hostile-input fuzz test (fuzz-hostile.test.ts) found, one named test each, so each
// stays fixed without depending on the fuzzer's seed. (The HPACK-error connection that was never
// closed is in limits-http.test.ts, beside the header-list limit that leads to it.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { deployEndpoint } from "./helpers/deploy.js";
import { startInProcess, type InProcessSluice } from "./helpers/in-process.js";
import { openRawBidi, tamperSigned, utf8 } from "./helpers/raw-bidi.js";
import { TEST_KEY, waitFor } from "./helpers/sluice.js";

let sluice: InProcessSluice;

before(async () => {
  // FAST_SETTINGS give --close-grace 2s.
  sluice = await startInProcess();
  await deployEndpoint(sluice.url, "echo");
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
