import { test } from "node:test";
import assert from "node:assert/strict";
import { Crc32 } from "@smithy/core/checksum";
import { MessageReader } from "./message-reader.js";
import { encodeMessage } from "./event-stream-codec.js";
import { EventStreamFailure } from "./event-stream-failure.js";
import { requestBody, RUNS } from "../../test/fixtures/real-client/index.js";

const ENVELOPE_SIZES: Record<string, number[]> = {
  "run1-three-events": [209, 210, 253, 83],
  "run2-600k-binary": [614_606, 83],
  "run3-response-events": [209, 210, 253, 83],
};

function feed(reader: MessageReader, bytes: Uint8Array, chunkSize: (i: number) => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, chunkSize(i));
    out.push(...reader.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

function prelude(total: number, headersLength: number, corruptCrc = false): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLength);
  const crc = new Crc32();
  crc.update(bytes.subarray(0, 8));
  view.setUint32(8, (crc.digestSync() ^ (corruptCrc ? 1 : 0)) >>> 0);
  return bytes;
}

function failureOf(fn: () => unknown): EventStreamFailure {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EventStreamFailure, `expected EventStreamFailure, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a failure");
}

for (const run of RUNS) {
  test(`${run}: the same messages come out whatever the chunking`, () => {
    const body = requestBody(run);
    const whole = feed(new MessageReader(), body, () => body.length);
    assert.deepEqual(whole.map((m) => m.length), ENVELOPE_SIZES[run]);
    assert.deepEqual(Buffer.concat(whole), Buffer.from(body));
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 4096;
    for (const chunking of [() => 1, () => 11, () => 12, () => 13, () => 16_384, random]) {
      const reader = new MessageReader();
      // Byte-at-a-time over 600 KiB is slow for nothing; the small runs cover it.
      if (body.length > 10_000 && chunking() < 12) continue;
      const messages = feed(reader, body, chunking);
      assert.deepEqual(messages.map((m) => Buffer.from(m)), whole.map((m) => Buffer.from(m)));
      assert.equal(reader.bufferedBytes, 0);
      assert.equal(reader.midMessage, false);
      reader.end();
    }
  });
}

test("a message split across many chunks is reassembled and counted while buffered", () => {
  const message = encodeMessage({ headers: {}, body: new Uint8Array(100).fill(9) });
  const reader = new MessageReader();
  assert.deepEqual(reader.push(message.subarray(0, 5)), []);
  assert.equal(reader.bufferedBytes, 5);
  assert.equal(reader.midMessage, true);
  assert.deepEqual(reader.push(message.subarray(5, 50)), []);
  assert.equal(reader.bufferedBytes, 50);
  const [out] = reader.push(message.subarray(50));
  assert.deepEqual(Buffer.from(out!), Buffer.from(message));
  assert.equal(reader.bufferedBytes, 0);
});

test("a declared length over the limit is refused from the prelude alone", () => {
  const reader = new MessageReader({ maxMessageBytes: 1000 });
  const failure = failureOf(() => reader.push(prelude(1001, 0)));
  assert.equal(failure.reason, "PayloadTooLarge");
  assert.equal(failure.type, "InternalStreamFailure");
  assert.equal(failure.message, "PayloadTooLarge");
  assert.equal(reader.bufferedBytes, 0);
  // Exactly at the limit is fine.
  const ok = new MessageReader({ maxMessageBytes: 1000 });
  assert.deepEqual(ok.push(prelude(1000, 0)), []);
  assert.equal(ok.bufferedBytes, 12);
});

test("the default limit is 16 MiB of payload plus 64 KiB of framing", () => {
  const limit = 16 * 1024 * 1024 + 64 * 1024;
  assert.deepEqual(new MessageReader().push(prelude(limit, 0)), []);
  assert.equal(failureOf(() => new MessageReader().push(prelude(limit + 1, 0))).reason, "PayloadTooLarge");
});

test("a bad prelude CRC is MalformedEvent, even when the length is also over the limit", () => {
  assert.equal(failureOf(() => new MessageReader().push(prelude(100, 0, true))).reason, "MalformedEvent");
  assert.equal(failureOf(() => new MessageReader({ maxMessageBytes: 50 }).push(prelude(100, 0, true))).reason, "MalformedEvent");
});

test("lengths that cannot describe a message are MalformedEvent", () => {
  assert.equal(failureOf(() => new MessageReader().push(prelude(15, 0))).reason, "MalformedEvent");
  assert.equal(failureOf(() => new MessageReader().push(prelude(0, 0))).reason, "MalformedEvent");
  assert.equal(failureOf(() => new MessageReader().push(prelude(100, 85))).reason, "MalformedEvent");
  assert.deepEqual(new MessageReader().push(prelude(100, 84)), []);
});

test("input ending mid-message is reported as truncated", () => {
  const message = encodeMessage({ headers: {}, body: new Uint8Array(10) });
  const reader = new MessageReader();
  reader.push(message.subarray(0, 20));
  assert.equal(reader.midMessage, true);
  const failure = failureOf(() => reader.end());
  assert.equal(failure.reason, "MalformedEvent");
  assert.match(failure.detail, /truncated/);
  // Ending inside the prelude counts too.
  const early = new MessageReader();
  early.push(message.subarray(0, 3));
  assert.equal(failureOf(() => early.end()).reason, "MalformedEvent");
});

test("after a failure the reader refuses everything with the same failure", () => {
  const reader = new MessageReader();
  const first = failureOf(() => reader.push(prelude(100, 0, true)));
  const good = encodeMessage({ headers: {}, body: new Uint8Array(1) });
  assert.equal(failureOf(() => reader.push(good)), first);
  assert.equal(failureOf(() => reader.end()), first);
  assert.equal(reader.bufferedBytes, 0);
});

test("several messages in one chunk all come out, in order", () => {
  const a = encodeMessage({ headers: {}, body: Uint8Array.of(1) });
  const b = encodeMessage({ headers: {}, body: Uint8Array.of(2, 2) });
  const out = new MessageReader().push(Buffer.concat([a, b, a.subarray(0, 4)]));
  assert.deepEqual(out.map((m) => Buffer.from(m)), [Buffer.from(a), Buffer.from(b)]);
});
