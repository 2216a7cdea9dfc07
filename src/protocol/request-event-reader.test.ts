import { test } from "node:test";
import assert from "node:assert/strict";
import { EventStreamFailure } from "./event-stream-failure.js";
import { RequestEventReader } from "./request-event-reader.js";
import { EventVerifier } from "./sigv4-event-verifier.js";
import { verifyRequest } from "./sigv4-verify-request.js";
import {
  ACCESS_KEY_ID,
  CAPTURE_TIME,
  requestBody,
  requestHeaders,
  SECRET_ACCESS_KEY,
  THREE_EVENTS,
} from "../../test/fixtures/real-client/index.js";

function verifier(): EventVerifier {
  const { headers } = requestHeaders("run1-three-events");
  const verified = verifyRequest(
    { method: "POST", target: headers[":path"]!, headers },
    { lookupCredentials: (id) => (id === ACCESS_KEY_ID ? { secretAccessKey: SECRET_ACCESS_KEY } : undefined), now: () => CAPTURE_TIME },
  );
  return new EventVerifier(verified);
}

for (const mode of ["verified", "unverified"] as const) {
  test(`${mode}: run 1 yields its three parts then the end, in 7-byte chunks`, () => {
    const reader = new RequestEventReader(mode === "verified" ? { verifier: verifier() } : {});
    const body = requestBody("run1-three-events");
    const items = [];
    for (let at = 0; at < body.length; at += 7) items.push(...reader.push(body.subarray(at, at + 7)));
    reader.end();
    assert.ok(reader.ended);
    assert.deepEqual(items, [
      ...THREE_EVENTS.map((e) => ({ kind: "part", part: { ...e, Bytes: new Uint8Array(e.Bytes) } })),
      { kind: "end" },
    ]);
  });
}

test("the payload limit applies to the inner PayloadPart", () => {
  const reader = new RequestEventReader({ verifier: verifier(), maxPayloadBytes: 4 });
  assert.throws(
    () => reader.push(requestBody("run1-three-events")),
    (err: unknown) => err instanceof EventStreamFailure && err.reason === "PayloadTooLarge",
  );
});

test("a signed body under the wrong request's chain is InvalidSignature", () => {
  const reader = new RequestEventReader({ verifier: verifier() });
  assert.throws(
    () => reader.push(requestBody("run3-response-events")),
    (err: unknown) => err instanceof EventStreamFailure && err.reason === "InvalidSignature",
  );
});
