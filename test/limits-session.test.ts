// Issue 5 scope 4, the per-session limits (DESIGN §2), each at its edge: exactly at the limit
// passes, one over gets its specific error, and nothing is buffered on the way there.
// Sluice runs in-process so the tests can read what it holds (StartedServer.stats()).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Crc32 } from "@smithy/core/checksum";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { FRAMING_ALLOWANCE_BYTES } from "../src/protocol/message-reader.js";
import { deployAt } from "./helpers/deploy.js";
import { startInProcess, type InProcessSluice } from "./helpers/in-process.js";
import { openRawBidi, text, utf8, type RawBidi } from "./helpers/raw-bidi.js";
import { TEST_KEY, waitFor } from "./helpers/sluice.js";

const MAX_PAYLOAD = 4096;
const MAX_MESSAGE = MAX_PAYLOAD + FRAMING_ALLOWANCE_BYTES;
const MiB = 1024 * 1024;

/** A 12-byte prelude with a correct CRC that declares a message of `total` bytes. */
export function prelude(total: number, headersLength = 0): Uint8Array {
  const out = Buffer.alloc(12);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headersLength, 4);
  const crc = new Crc32();
  crc.update(out.subarray(0, 8));
  out.writeUInt32BE(crc.digestSync(), 8);
  return out;
}

function open(sluice: InProcessSluice, extra: Record<string, string> = {}): Promise<RawBidi> {
  return openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY, headers: extra });
}

describe("payload, message and session limits (--max-payload-bytes 4096, --max-sessions 2)", { timeout: 120_000 }, () => {
  let sluice: InProcessSluice;

  before(async () => {
    sluice = await startInProcess(["--max-payload-bytes", String(MAX_PAYLOAD), "--max-sessions", "2"]);
    await deployAt(sluice.url, "echo");
  });
  after(async () => {
    await sluice?.cleanup();
  });

  test("a PayloadPart of exactly maxPayloadBytes passes; one byte more ends the session with PayloadTooLarge", async () => {
    const bidi = await open(sluice);
    assert.equal((await bidi.response)[":status"], 200);
    await bidi.send(utf8("a".repeat(MAX_PAYLOAD)));
    const [echoed] = await bidi.waitForMessages(1);
    assert.equal(echoed?.kind === "event" && echoed.event.PayloadPart.Bytes.byteLength, MAX_PAYLOAD);
    await bidi.send(utf8("b".repeat(MAX_PAYLOAD + 1)));
    const messages = await bidi.messages();
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[1], { kind: "stream-error", error: { kind: "InternalStreamFailure", Message: "PayloadTooLarge" } });
    bidi.close();
    await waitFor("the session to be gone", () => (sluice.server.stats().leasedSessions === 0 ? true : undefined), 10_000, 20);
  });

  test("a message declared one byte over the limit is refused from its 12-byte prelude alone", async () => {
    const bidi = await open(sluice);
    assert.equal((await bidi.response)[":status"], 200);
    // Only the prelude goes out and the request side stays open: an error now can only come
    // from the declared length; had Sluice meant to buffer the message, it would still wait.
    bidi.sendRaw(prelude(MAX_MESSAGE + 1));
    const messages = await bidi.messages();
    assert.deepEqual(messages, [{ kind: "stream-error", error: { kind: "InternalStreamFailure", Message: "PayloadTooLarge" } }]);
    assert.equal(bidi.stream.writableEnded, false, "the client never ended its input");
    bidi.close();
    await waitFor("the session to be gone", () => (sluice.server.stats().leasedSessions === 0 ? true : undefined), 10_000, 20);
    assert.equal(sluice.server.stats().bufferedBytes, 0);
  });

  test("a message declared exactly at the limit is waited for, holding only what arrived", async () => {
    const bidi = await open(sluice);
    assert.equal((await bidi.response)[":status"], 200);
    bidi.sendRaw(prelude(MAX_MESSAGE));
    // The prelude passed the gate: the session waits for the rest, holding the 12 bytes it has.
    await waitFor("the prelude to be held", () => (sluice.server.stats().bufferedBytes === 12 ? true : undefined), 10_000, 20);
    assert.equal(sluice.server.stats().openSessions, 1);
    // Input ending there cuts the message short: MalformedEvent, not PayloadTooLarge.
    bidi.stream.end();
    const messages = await bidi.messages();
    assert.deepEqual(messages, [{ kind: "stream-error", error: { kind: "InternalStreamFailure", Message: "MalformedEvent" } }]);
    bidi.close();
    await waitFor("the session to be gone", () => (sluice.server.stats().leasedSessions === 0 ? true : undefined), 10_000, 20);
  });

  test("--max-sessions 2: the third concurrent session gets 503; once one ends, a new one passes", async () => {
    const first = await open(sluice);
    const second = await open(sluice);
    assert.equal((await first.response)[":status"], 200);
    assert.equal((await second.response)[":status"], 200);
    const third = await open(sluice);
    const refused = await third.response;
    assert.equal(refused[":status"], 503);
    assert.equal(refused["x-amzn-errortype"], "ServiceUnavailableError");
    assert.match(JSON.parse((await third.body).toString()).Message, /limit of 2 concurrent sessions/);
    third.close();

    await first.send(utf8('{"type":"CloseStream"}'));
    await first.end();
    await first.messages();
    first.close();
    await waitFor("a free slot", () => (sluice.server.stats().leasedSessions === 1 ? true : undefined), 10_000, 20);
    const fourth = await open(sluice);
    assert.equal((await fourth.response)[":status"], 200);
    await fourth.send(utf8("still here"));
    const [echo] = await fourth.waitForMessages(1);
    assert.equal(echo?.kind === "event" && text(echo.event.PayloadPart.Bytes), "still here");
    for (const s of [second, fourth]) {
      await s.send(utf8('{"type":"CloseStream"}'));
      await s.end();
      await s.messages();
      s.close();
    }
    await waitFor("every session to be gone", () => (sluice.server.stats().leasedSessions === 0 ? true : undefined), 10_000, 20);
  });

  test("InvokeEndpoint: a body of exactly 6 MiB passes; one byte more is 413", async () => {
    const runtime = new SageMakerRuntimeClient({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY, maxAttempts: 1 });
    try {
      const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: "echo", Body: new Uint8Array(6 * MiB).fill(0x61) }));
      assert.equal(out.Body?.byteLength, 6 * MiB);
      const err = await runtime
        .send(new InvokeEndpointCommand({ EndpointName: "echo", Body: new Uint8Array(6 * MiB + 1).fill(0x61) }))
        .then(() => assert.fail("accepted"))
        .catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
      assert.equal(err.$metadata?.httpStatusCode, 413);
      assert.equal(err.name, "RequestEntityTooLarge");
    } finally {
      runtime.destroy();
    }
  });
});

describe("idle timeout (--idle-timeout 500ms)", { timeout: 60_000 }, () => {
  let sluice: InProcessSluice;

  before(async () => {
    sluice = await startInProcess(["--idle-timeout", "500ms"]);
    await deployAt(sluice.url, "echo");
  });
  after(async () => {
    await sluice?.cleanup();
  });

  test("a session with no message either way ends with InternalStreamFailure IdleTimeout, after what was echoed", async () => {
    const bidi = await open(sluice);
    assert.equal((await bidi.response)[":status"], 200);
    await bidi.send(utf8("one"));
    const messages = await bidi.messages();
    assert.equal(messages.length, 2);
    assert.equal(messages[0]?.kind === "event" && text(messages[0].event.PayloadPart.Bytes), "one");
    assert.deepEqual(messages[1], { kind: "stream-error", error: { kind: "InternalStreamFailure", Message: "IdleTimeout" } });
    bidi.close();
    await waitFor("the session to be gone", () => (sluice.server.stats().leasedSessions === 0 ? true : undefined), 10_000, 20);
  });
});
