import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { unwrapEnvelope, wrapEnvelope } from "./envelope.js";
import { decodeMessage, encodeMessage, stringHeader, type MessageHeaders } from "./event-stream-codec.js";
import { EventStreamFailure } from "./event-stream-failure.js";
import { MessageReader } from "./message-reader.js";
import { decodePayloadPart, encodePayloadPart } from "./payload-part.js";
import { decodeResponseMessage, encodeResponseEvent, encodeStreamError } from "./response-event.js";
import type { PayloadPart } from "./events.js";
import { requestBody, responseBody, RUNS, THREE_EVENTS } from "../../test/fixtures/real-client/index.js";

function envelopes(bytes: Uint8Array) {
  const reader = new MessageReader();
  const out = reader.push(bytes).map(unwrapEnvelope);
  reader.end();
  return out;
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EventStreamFailure, String(err));
    return err.reason;
  }
  assert.fail("expected a failure");
}

for (const run of ["run1-three-events", "run3-response-events"] as const) {
  test(`${run}: the body holds the three README events, then the empty end envelope`, () => {
    const list = envelopes(requestBody(run));
    assert.equal(list.length, 4);
    assert.deepEqual(list.map((e) => e.payload.length), [126, 127, 170, 0]);
    const parts = list.slice(0, 3).map((e) => decodePayloadPart(e.payload));
    assert.deepEqual(parts, THREE_EVENTS.map((e) => ({ ...e, Bytes: new Uint8Array(e.Bytes) })));
    for (const e of list) assert.ok(e.date.getUTCMilliseconds() > 0 && e.date.toISOString().startsWith("2026-11-25T09:51:3"));
  });
}

test("run2: one 600 KiB BINARY part, not split, then the end envelope", () => {
  const list = envelopes(requestBody("run2-600k-binary"));
  assert.deepEqual(list.map((e) => e.payload.length), [614_523, 0]);
  const part = decodePayloadPart(list[0]!.payload);
  assert.equal(part.DataType, "BINARY");
  assert.equal(part.CompletionState, undefined);
  assert.equal(part.Bytes.length, 614_400);
  assert.equal(
    createHash("sha256").update(part.Bytes).digest("hex"),
    "7db7de02805282d3332a52410cd586f9a7be3bf46702b8be91b8779b8593a477",
  );
});

test("Sluice encodes request events exactly as AWS's client does", () => {
  for (const run of RUNS) {
    for (const envelope of envelopes(requestBody(run))) {
      if (envelope.payload.length === 0) continue;
      const part = decodePayloadPart(envelope.payload);
      assert.deepEqual(Buffer.from(encodePayloadPart(part, "request")), Buffer.from(envelope.payload));
    }
  }
});

test("Sluice reproduces the captured response bytes exactly", () => {
  const ours = Buffer.concat([
    encodeResponseEvent({ PayloadPart: { Bytes: new TextEncoder().encode("hi"), DataType: "UTF8" } }),
    encodeStreamError({ kind: "ModelStreamError", Message: "boom", ErrorCode: "StreamBroken" }),
  ]);
  assert.deepEqual(ours, Buffer.from(responseBody()));
});

test("the captured response decodes into a PayloadPart then a ModelStreamError", () => {
  const messages = new MessageReader().push(responseBody()).map(decodeResponseMessage);
  assert.deepEqual(messages, [
    { kind: "event", event: { PayloadPart: { Bytes: new TextEncoder().encode("hi"), DataType: "UTF8" } } },
    { kind: "stream-error", error: { kind: "ModelStreamError", Message: "boom", ErrorCode: "StreamBroken" } },
  ]);
});

test("InternalStreamFailure and unmodeled errors decode; unknown event types are skippable", () => {
  assert.deepEqual(decodeResponseMessage(encodeStreamError({ kind: "InternalStreamFailure", Message: "InvalidSignature" })), {
    kind: "stream-error",
    error: { kind: "InternalStreamFailure", Message: "InvalidSignature" },
  });
  const failure = decodeMessage(encodeStreamError({ kind: "InternalStreamFailure", Message: "x" }));
  assert.deepEqual(JSON.parse(Buffer.from(failure.body).toString()), { Message: "x" });
  assert.equal(failure.headers[":content-type"]?.value, "application/json");
  const unmodeled = encodeMessage({
    headers: { ":message-type": stringHeader("error"), ":error-code": stringHeader("Boom"), ":error-message": stringHeader("bad") },
    body: new Uint8Array(0),
  });
  assert.deepEqual(decodeResponseMessage(unmodeled), { kind: "unmodeled-error", code: "Boom", message: "bad" });
  const other = encodeMessage({
    headers: { ":message-type": stringHeader("event"), ":event-type": stringHeader("Other") },
    body: new Uint8Array(0),
  });
  assert.deepEqual(decodeResponseMessage(other), { kind: "unknown-event", eventType: "Other" });
});

test("optional headers are written only when set, P included, in order", () => {
  const part: PayloadPart = { Bytes: Uint8Array.of(1), DataType: "UTF8", CompletionState: "PARTIAL", P: "xxxx" };
  const decoded = decodeMessage(encodePayloadPart(part, "request"));
  assert.deepEqual(Object.keys(decoded.headers), [":event-type", ":message-type", ":content-type", "DataType", "CompletionState", "P"]);
  assert.deepEqual(decodePayloadPart(encodePayloadPart(part, "response")), part);
  const bare = decodeMessage(encodePayloadPart({ Bytes: new Uint8Array(0) }, "response"));
  assert.deepEqual(Object.keys(bare.headers), [":message-type", ":event-type", ":content-type", "DataType"]);
  assert.equal(bare.headers["DataType"]?.value, "BINARY");
});

test("decoding refuses wrong message and event types and unknown header values", () => {
  const make = (headers: Record<string, string>) =>
    encodeMessage({
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, stringHeader(v)])),
      body: Uint8Array.of(1),
    });
  const base = { ":event-type": "PayloadPart", ":message-type": "event", ":content-type": "application/octet-stream" };
  assert.deepEqual(decodePayloadPart(make(base)), { Bytes: Uint8Array.of(1) });
  assert.equal(reason(() => decodePayloadPart(make({ ...base, ":message-type": "exception" }))), "MalformedEvent");
  assert.equal(reason(() => decodePayloadPart(make({ ...base, ":event-type": "Other" }))), "MalformedEvent");
  assert.equal(reason(() => decodePayloadPart(make({ ":event-type": "PayloadPart" }))), "MalformedEvent");
  assert.equal(reason(() => decodePayloadPart(make({ ...base, DataType: "utf8" }))), "MalformedEvent");
  assert.equal(reason(() => decodePayloadPart(make({ ...base, CompletionState: "DONE" }))), "MalformedEvent");
  assert.equal(reason(() => decodePayloadPart(make(base), { maxPayloadBytes: 0 })), "PayloadTooLarge");
});

test("envelopes round-trip; anything but exactly :date then :chunk-signature is malformed", () => {
  const date = new Date(1764064291745);
  const signature = new Uint8Array(32).fill(7);
  const inner = encodePayloadPart({ Bytes: Uint8Array.of(5) }, "request");
  const envelope = unwrapEnvelope(wrapEnvelope(inner, date, signature));
  assert.equal(envelope.date.getTime(), date.getTime());
  assert.deepEqual([...envelope.signature], [...signature]);
  assert.deepEqual(Buffer.from(envelope.payload), Buffer.from(inner));
  assert.equal(envelope.dateHeader.length, 15);

  const sig = { type: "binary" as const, value: signature };
  const ts = { type: "timestamp" as const, value: date };
  const bad: MessageHeaders[] = [
    { ":chunk-signature": sig, ":date": ts },
    { ":date": ts },
    { ":date": ts, ":chunk-signature": sig, extra: stringHeader("x") },
    { ":date": ts, ":chunk-signature": { type: "binary" as const, value: new Uint8Array(31) } },
    { ":date": stringHeader("now"), ":chunk-signature": sig },
  ];
  for (const headers of bad) {
    assert.equal(reason(() => unwrapEnvelope(encodeMessage({ headers, body: inner }))), "MalformedEvent");
  }
  // A bare inner message is not an envelope.
  assert.equal(reason(() => unwrapEnvelope(inner)), "MalformedEvent");
});
