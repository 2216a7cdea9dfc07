import { test } from "node:test";
import assert from "node:assert/strict";
import { Crc32 } from "@smithy/core/checksum";
import { decodeMessage, encodeMessage, readStringHeader, stringHeader } from "./event-stream-codec.js";
import { EventStreamFailure } from "./event-stream-failure.js";

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EventStreamFailure, String(err));
    return err.reason;
  }
  assert.fail("expected a failure");
}

/** Rewrites both CRCs so that only the structural fault under test remains. */
function recrc(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let crc = new Crc32();
  crc.update(bytes.subarray(0, 8));
  view.setUint32(8, crc.digestSync());
  crc = new Crc32();
  crc.update(bytes.subarray(0, bytes.length - 4));
  view.setUint32(bytes.length - 4, crc.digestSync());
  return bytes;
}

test("messages round-trip with every header type", () => {
  const message = {
    headers: {
      s: stringHeader("text"),
      b: { type: "binary" as const, value: Uint8Array.of(1, 2) },
      t: { type: "timestamp" as const, value: new Date(1764064291745) },
      i: { type: "integer" as const, value: -5 },
      y: { type: "boolean" as const, value: true },
    },
    body: Uint8Array.of(9, 8, 7),
  };
  const decoded = decodeMessage(encodeMessage(message));
  assert.deepEqual(Object.keys(decoded.headers), ["s", "b", "t", "i", "y"]);
  assert.equal(readStringHeader(decoded.headers, "s"), "text");
  assert.deepEqual([...decoded.body], [9, 8, 7]);
});

test("a flipped byte anywhere fails the CRC checks", () => {
  const bytes = encodeMessage({ headers: { a: stringHeader("b") }, body: Uint8Array.of(1, 2, 3) });
  for (let i = 0; i < bytes.length; i++) {
    const copy = Uint8Array.from(bytes);
    copy[i]! ^= 0x20;
    assert.equal(reason(() => decodeMessage(copy)), "MalformedEvent", `byte ${i}`);
  }
});

test("a header value running past the header block is refused even with valid CRCs", () => {
  const bytes = encodeMessage({ headers: { a: stringHeader("bc") }, body: new Uint8Array(40) });
  // Header: len 1, "a", type 7, u16 length 2, "bc"; claim 30 bytes instead.
  new DataView(bytes.buffer).setUint16(12 + 3, 30);
  assert.equal(reason(() => decodeMessage(recrc(bytes))), "MalformedEvent");
});

test("an unknown header type and a headers length past the message are refused", () => {
  const bytes = encodeMessage({ headers: { a: stringHeader("b") }, body: new Uint8Array(4) });
  const badType = Uint8Array.from(bytes);
  badType[12 + 2] = 12;
  assert.equal(reason(() => decodeMessage(recrc(badType))), "MalformedEvent");
  const badLength = Uint8Array.from(bytes);
  new DataView(badLength.buffer).setUint32(4, bytes.length);
  assert.equal(reason(() => decodeMessage(recrc(badLength))), "MalformedEvent");
  assert.equal(reason(() => decodeMessage(new Uint8Array(15))), "MalformedEvent");
});

test("a header of the wrong type is malformed, an inherited name is absent", () => {
  const headers = decodeMessage(encodeMessage({ headers: { n: { type: "integer", value: 1 } }, body: new Uint8Array(0) })).headers;
  assert.equal(reason(() => readStringHeader(headers, "n")), "MalformedEvent");
  assert.equal(readStringHeader(headers, "toString"), undefined);
});
