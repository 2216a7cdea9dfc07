import { test } from "node:test";
import assert from "node:assert/strict";
import { unwrapEnvelope, wrapEnvelope } from "./envelope.js";
import { EventStreamFailure } from "./event-stream-failure.js";
import { MessageReader } from "./message-reader.js";
import { encodePayloadPart } from "./payload-part.js";
import { EventSigner } from "./sigv4-event-signer.js";
import { EventVerifier, type EventChainSeed } from "./sigv4-event-verifier.js";
import { createSigningKeySource } from "./sigv4-signing-key.js";
import { verifyRequest } from "./sigv4-verify-request.js";
import {
  ACCESS_KEY_ID,
  CAPTURE_TIME,
  CHUNK_SIGNATURES,
  REGION,
  requestBody,
  requestHeaders,
  RUNS,
  SECRET_ACCESS_KEY,
  SEED_SIGNATURES,
  THREE_EVENTS,
  type RunName,
} from "../../test/fixtures/real-client/index.js";

function verifiedSeed(run: RunName): EventChainSeed {
  const { headers } = requestHeaders(run);
  return verifyRequest(
    { method: "POST", target: headers[":path"]!, headers },
    {
      lookupCredentials: (id) => (id === ACCESS_KEY_ID ? { secretAccessKey: SECRET_ACCESS_KEY } : undefined),
      now: () => CAPTURE_TIME,
    },
  );
}

function messages(bytes: Uint8Array): Uint8Array[] {
  const reader = new MessageReader();
  const out = reader.push(bytes);
  reader.end();
  return out;
}

/** Runs a whole body through the reader and the verifier, as the router does. */
function verifyBody(seed: EventChainSeed, body: Uint8Array): void {
  const reader = new MessageReader();
  const verifier = new EventVerifier(seed);
  for (const message of reader.push(body)) verifier.verify(message);
  reader.end();
  assert.ok(verifier.ended, "the end envelope verified");
}

for (const run of RUNS) {
  test(`${run}: every chunk signature of AWS's client verifies, end envelope included`, () => {
    const verifier = new EventVerifier(verifiedSeed(run), { maxSkewMs: 5 * 60_000, now: () => CAPTURE_TIME });
    const results = messages(requestBody(run)).map((m) => verifier.verify(m));
    assert.equal(results.length, CHUNK_SIGNATURES[run].length);
    assert.deepEqual(results.map((r) => r.end), results.map((_, i) => i === results.length - 1));
    assert.equal(results.at(-1)!.payload.length, 0);
    assert.ok(verifier.ended);
  });
}

test("EventSigner reproduces AWS's envelopes byte for byte given the same dates", async () => {
  const run = "run1-three-events";
  const captured = messages(requestBody(run));
  const dates = captured.map((m) => unwrapEnvelope(m).date.getTime());
  const signer = new EventSigner({
    seedSignature: SEED_SIGNATURES[run],
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    now: () => dates.shift()!,
  });
  // Signing is chained in call order even when the calls overlap.
  const ours = await Promise.all([...THREE_EVENTS.map((e) => signer.sign(encodePayloadPart(e, "request"))), signer.end()]);
  assert.deepEqual(ours.map((b) => Buffer.from(b)), captured.map((b) => Buffer.from(b)));
  assert.deepEqual(
    ours.map((b) => Buffer.from(unwrapEnvelope(b).signature).toString("hex")),
    CHUNK_SIGNATURES[run],
  );
});

test("flipping any single byte of a signed body fails framing or verification", () => {
  const run = "run1-three-events";
  const body = requestBody(run);
  const seed = verifiedSeed(run);
  verifyBody(seed, body);
  // Every byte of the first envelope (prelude, :date, signature, inner headers and payload,
  // CRCs) and every byte of the end envelope, plus a stride through the rest.
  const positions = new Set<number>();
  for (let i = 0; i < 209; i++) positions.add(i);
  for (let i = body.length - 83; i < body.length; i++) positions.add(i);
  for (let i = 209; i < body.length - 83; i += 3) positions.add(i);
  for (const position of positions) {
    for (const mask of [0x01, 0x80]) {
      const copy = Uint8Array.from(body);
      copy[position]! ^= mask;
      assert.throws(
        () => verifyBody(seed, copy),
        EventStreamFailure,
        `byte ${position} mask ${mask}`,
      );
    }
  }
});

test("a corrupted byte whose CRCs are recomputed is still caught by the signature", () => {
  // An attacker can fix CRCs; only the signature protects the content. Re-sign the CRCs of the
  // first envelope after changing one payload byte of its inner message ("hello" -> "hellp").
  const run = "run1-three-events";
  const [first, ...rest] = messages(requestBody(run));
  const envelope = unwrapEnvelope(first!);
  const inner = Uint8Array.from(envelope.payload);
  inner[inner.length - 5]! ^= 0x1f;
  const forged = wrapEnvelope(inner, envelope.date, envelope.signature);
  const verifier = new EventVerifier(verifiedSeed(run));
  assert.throws(() => verifier.verify(forged), (err: unknown) => err instanceof EventStreamFailure && err.reason === "InvalidSignature");
  // The chain is broken for good, even for the genuine next event.
  assert.throws(() => verifier.verify(rest[0]!), (err: unknown) => err instanceof EventStreamFailure && err.reason === "InvalidSignature");
});

test("dropping, reordering or replaying an envelope breaks the chain", () => {
  const run = "run3-response-events";
  const list = messages(requestBody(run));
  const seed = verifiedSeed(run);
  const orders = [
    [1, 2, 3],
    [0, 2, 1, 3],
    [0, 0, 1, 2, 3],
    [0, 1, 3],
  ];
  for (const order of orders) {
    const verifier = new EventVerifier(seed);
    assert.throws(
      () => order.forEach((i) => verifier.verify(list[i]!)),
      (err: unknown) => err instanceof EventStreamFailure && err.reason === "InvalidSignature",
      order.join(","),
    );
  }
  // Another run's chain does not verify against this request's seed.
  const foreign = new EventVerifier(seed);
  assert.throws(() => foreign.verify(messages(requestBody("run1-three-events"))[0]!), EventStreamFailure);
});

test("nothing is accepted after the end envelope", () => {
  const run = "run1-three-events";
  const list = messages(requestBody(run));
  const verifier = new EventVerifier(verifiedSeed(run));
  list.forEach((m) => verifier.verify(m));
  assert.throws(() => verifier.verify(list[0]!), (err: unknown) => err instanceof EventStreamFailure && err.reason === "MalformedEvent");
});

test("the optional per-event skew check refuses stale events", () => {
  const run = "run1-three-events";
  const verifier = new EventVerifier(verifiedSeed(run), { maxSkewMs: 60_000, now: () => CAPTURE_TIME + 10 * 60_000 });
  assert.throws(
    () => verifier.verify(messages(requestBody(run))[0]!),
    (err: unknown) => err instanceof EventStreamFailure && err.reason === "InvalidSignature",
  );
});

test("a signer with the wrong secret produces a chain the verifier refuses", async () => {
  const run = "run2-600k-binary";
  const seed = verifiedSeed(run);
  const signer = new EventSigner({
    seedSignature: seed.seedSignature,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: "wrong" },
  });
  const envelope = await signer.sign(encodePayloadPart({ Bytes: Uint8Array.of(1) }, "request"));
  assert.throws(() => new EventVerifier(seed).verify(envelope), EventStreamFailure);
  // And the right one, signing now, is accepted (keys are derived from each event's date).
  const good = new EventSigner({
    seedSignature: seed.seedSignature,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  const verifier = new EventVerifier({ ...seed, signingKey: createSigningKeySource(SECRET_ACCESS_KEY, "sagemaker") });
  verifier.verify(await good.sign(encodePayloadPart({ Bytes: Uint8Array.of(1) }, "request")));
  assert.equal(verifier.verify(await good.end()).end, true);
});
