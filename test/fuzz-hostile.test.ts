// Issue 5 scope 5: hostile input. Mutated and random event-stream bytes on real bidi sessions,
// bad HTTP/2 behaviour and malformed control-plane JSON, from a seeded generator. Each case
// checks what its client gets; after each batch of 100 cases Sluice must hold nothing (no open
// session, no leased slot, no buffered byte, no extra socket) and still serve a good session on
// a new connection; at the end the heap after a forced GC is within 20 MiB of the start and the
// database passes `PRAGMA integrity_check`.
//
//   SLUICE_FUZZ_CASES=5000 SLUICE_FUZZ_SEED=7 node scripts/run-tests.mjs test/fuzz-hostile.test.ts
//   SLUICE_FUZZ_KINDS="random bytes,bad event signature" …   (only those kinds)
//
// A failure names the seed and case number; the same seed replays the same cases.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import Database from "better-sqlite3";
import { Crc32 } from "@smithy/core/checksum";
import { encodeMessage, stringHeader } from "../src/protocol/event-stream-codec.js";
import { FRAMING_ALLOWANCE_BYTES } from "../src/protocol/message-reader.js";
import { encodePayloadPart } from "../src/protocol/payload-part.js";
import type { ResponseMessage } from "../src/protocol/response-event.js";
import { signRequest } from "../src/protocol/sigv4-sign-request.js";
import { deployAt } from "./helpers/deploy.js";
import { encodeFrame, FRAME, RawH2 } from "./helpers/raw-h2.js";
import { startInProcess, type InProcessSluice } from "./helpers/in-process.js";
import { openRawBidi, tamperSigned, text, utf8, type RawBidi } from "./helpers/raw-bidi.js";
import { TEST_KEY, waitFor } from "./helpers/sluice.js";

const CASES = Number(process.env.SLUICE_FUZZ_CASES ?? 500);
const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 20261125);
const BATCH = 100;
/** Cases run this many at a time, each on its own connection. */
const PARALLEL = 6;
const MAX_PAYLOAD = 64 * 1024;
const MAX_MESSAGE = MAX_PAYLOAD + FRAMING_ALLOWANCE_BYTES;
const MiB = 1024 * 1024;
/** A cap against hangs only: a case that takes this long has hung. */
const CASE_CAP_MS = 30_000;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const bytes = (n: number): Buffer => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = int(0, 255);
    return out;
  };
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof rng>;

let sluice: InProcessSluice;
/** Most bytes Sluice was seen holding while a client did not read (reported, so the bound is seen to bite). */
let floodPeak = 0;

before(async () => {
  // A short PING interval, so connections whose HTTP/2 state gave up are found within a batch.
  sluice = await startInProcess(["--max-payload-bytes", String(MAX_PAYLOAD), "--connection-ping-interval", "500ms"]);
  await deployAt(sluice.url, "echo", { instances: 2 });
});
after(async () => {
  await sluice?.cleanup();
});

// --- building blocks

function preludeFor(total: number, headersLength: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32BE(total >>> 0, 0);
  out.writeUInt32BE(headersLength >>> 0, 4);
  const crc = new Crc32();
  crc.update(out.subarray(0, 8));
  out.writeUInt32BE(crc.digestSync(), 8);
  return out;
}

/** A whole message from a raw header block and body, with correct prelude and message CRCs. */
function frameRaw(headerBlock: Uint8Array, body: Uint8Array): Buffer {
  const total = 12 + headerBlock.byteLength + body.byteLength + 4;
  const head = Buffer.concat([preludeFor(total, headerBlock.byteLength), headerBlock, body]);
  const crc = new Crc32();
  crc.update(head);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc.digestSync());
  return Buffer.concat([head, tail]);
}

function flipBit(bytes: Uint8Array, at: number, r: Rng): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at]! ^= 1 << r.int(0, 7);
  return out;
}

function randomPart(r: Rng) {
  return r.next() < 0.5 ? utf8("w".repeat(r.int(1, 512))) : { Bytes: r.bytes(r.int(1, 2048)), DataType: "BINARY" as const };
}

function withCap<T>(what: string, p: Promise<T>, capMs = CASE_CAP_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no end within ${capMs} ms (hung)`)), capMs);
    }),
  ]);
}

async function openEcho(extra: Partial<Parameters<typeof openRawBidi>[0]> = {}): Promise<RawBidi> {
  const bidi = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY, ...extra });
  const status = Number((await withCap("response headers", bidi.response))[":status"]);
  assert.equal(status, 200, "a well-formed request gets its session");
  return bidi;
}

/** Waits for the response to end and checks it: any echoes, then exactly one failure with one of `reasons`. */
async function expectFailure(bidi: RawBidi, reasons: string[]): Promise<ResponseMessage[]> {
  const messages = await withCap("the failing session's end", bidi.messages());
  const last = messages.at(-1);
  assert.ok(last?.kind === "stream-error", `the session ends with an exception, got ${JSON.stringify(last)}`);
  assert.equal(last.error.kind, "InternalStreamFailure");
  assert.ok(reasons.includes(last.error.Message), `reason ${last.error.Message} is one of ${reasons.join(", ")}`);
  assert.ok(messages.slice(0, -1).every((m) => m.kind === "event"), "only echoes come before it");
  return messages;
}

// --- the cases: each returns once its client is done, having checked what it got

type CaseFn = (r: Rng) => Promise<void>;

const CASES_BY_KIND: Record<string, { weight: number; run: CaseFn }> = {
  "bad prelude CRC": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      await bidi.send(randomPart(r), (e) => flipBit(e, r.int(0, 11), r));
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "bad message CRC": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      await bidi.send(randomPart(r), (e) => flipBit(e, e.length - 1 - r.int(0, 3), r));
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "a flipped bit inside a signed envelope": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      await bidi.send(randomPart(r), (e) => flipBit(e, r.int(12, e.length - 5), r));
      // The message CRC covers the flip: refused before the signature is looked at.
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "truncated message, then END_STREAM": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      await bidi.send(randomPart(r), (e) => e.subarray(0, r.int(1, e.length - 1)));
      bidi.stream.end();
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "declared length pointing past the end": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      await bidi.send(randomPart(r), (e) => {
        const out = Buffer.from(e);
        const headersLength = out.readUInt32BE(4);
        preludeFor(e.length + r.int(1, 4096), headersLength).copy(out, 0);
        return out;
      });
      // Perhaps followed by a good envelope, which then reads as the rest of the bad one.
      if (r.next() < 0.5) await bidi.send(randomPart(r));
      bidi.stream.end();
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "huge declared length (prelude only)": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      if (r.next() < 0.5) {
        await bidi.send(utf8("before"));
        await withCap("the echo before", bidi.waitForMessages(1));
      }
      bidi.sendRaw(preludeFor(r.int(MAX_MESSAGE + 1, 0xffffffff), r.int(0, 64)));
      await expectFailure(bidi, ["PayloadTooLarge"]);
      bidi.close();
    },
  },
  "headers length larger than the message": {
    weight: 1,
    run: async (r) => {
      const bidi = await openEcho();
      const total = r.int(16, 4096);
      bidi.sendRaw(Buffer.concat([preludeFor(total, r.int(total - 15, 0xffffffff)), r.bytes(total - 12)]));
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "unknown header value type": {
    weight: 2,
    run: async (r) => {
      const bidi = await openEcho();
      const name = Buffer.from(r.pick([":date", "x", ":event-type", "DataType"]));
      const block = Buffer.concat([Buffer.from([name.length]), name, Buffer.from([r.int(10, 255)]), r.bytes(r.int(0, 16))]);
      const message = frameRaw(block, r.bytes(r.int(0, 64)));
      // As the outer message, or signed as the inner one.
      if (r.next() < 0.5) bidi.sendRaw(message);
      else await bidi.sendInner(message);
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "a message that is not a signed envelope": {
    weight: 2,
    run: async (r) => {
      const bidi = await openEcho();
      bidi.sendRaw(encodePayloadPart(randomPart(r), "request"));
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "inner message with the wrong :message-type or :event-type": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      let messageType = r.pick(["event", "error", "exception", "", "Event"]);
      const eventType = r.pick(["PayloadPart", "Bogus", "", "payloadpart"]);
      if (messageType === "event" && eventType === "PayloadPart") messageType = "exception";
      const headers: Record<string, ReturnType<typeof stringHeader>> = {};
      if (r.next() < 0.9) headers[":message-type"] = stringHeader(messageType);
      if (r.next() < 0.9) headers[":event-type"] = stringHeader(eventType);
      headers[":content-type"] = stringHeader("application/octet-stream");
      await bidi.sendInner(encodeMessage({ headers, body: r.bytes(r.int(1, 64)) }));
      await expectFailure(bidi, ["MalformedEvent"]);
      bidi.close();
    },
  },
  "bad event signature": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      const good = r.int(0, 2);
      for (let i = 0; i < good; i++) await bidi.send(utf8(`good ${i}`));
      if (good > 0) await withCap("the good echoes", bidi.waitForMessages(good));
      await bidi.send(utf8("tampered payload"), r.next() < 0.5 ? (e) => tamperSigned(e) : (e) => tamperSigned(e, 0));
      const messages = await expectFailure(bidi, ["InvalidSignature"]);
      assert.equal(messages.length, good + 1);
      bidi.close();
    },
  },
  "random bytes": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      bidi.sendRaw(r.bytes(r.int(1, 8192)));
      bidi.stream.end();
      await expectFailure(bidi, ["MalformedEvent", "PayloadTooLarge"]);
      bidi.close();
    },
  },
  "a good stream, then random mutations": {
    weight: 4,
    run: async (r) => {
      const bidi = await openEcho();
      const good = r.int(0, 3);
      for (let i = 0; i < good; i++) await bidi.send(randomPart(r));
      await bidi.send(randomPart(r), (e) => {
        let out = Buffer.from(e);
        for (let n = r.int(1, 4); n > 0; n--) {
          const at = r.int(0, out.length - 1);
          const op = r.int(0, 2);
          if (op === 0) out[at]! ^= r.int(1, 255);
          else if (op === 1) out = Buffer.concat([out.subarray(0, at), r.bytes(r.int(1, 8)), out.subarray(at)]);
          else out = Buffer.concat([out.subarray(0, at), out.subarray(at + r.int(1, 8))]);
        }
        return out;
      });
      bidi.stream.end();
      await expectFailure(bidi, ["MalformedEvent", "PayloadTooLarge", "InvalidSignature"]);
      bidi.close();
    },
  },
  "RST_STREAM mid-message": {
    weight: 3,
    run: async (r) => {
      const bidi = await openEcho();
      if (r.next() < 0.5) {
        await bidi.send(utf8("first"));
        await withCap("the echo", bidi.waitForMessages(1));
      }
      await bidi.send(randomPart(r), (e) => e.subarray(0, r.int(1, e.length - 1)));
      bidi.stream.close(r.pick([http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_INTERNAL_ERROR, http2.constants.NGHTTP2_NO_ERROR]));
      await withCap("the stream to close", new Promise((resolve) => bidi.stream.once("close", resolve)));
      bidi.close();
    },
  },
  "the connection dropped mid-message": {
    weight: 2,
    run: async (r) => {
      const session = http2.connect(sluice.url);
      session.on("error", () => {});
      const bidi = await openEcho({ session });
      await bidi.send(randomPart(r), (e) => e.subarray(0, r.int(1, e.length - 1)));
      session.destroy();
    },
  },
  "many streams opened and abandoned": {
    weight: 2,
    run: async (r) => {
      const session = http2.connect(sluice.url);
      session.on("error", () => {});
      session.setMaxListeners(100);
      const n = r.int(5, 30);
      const opened = await Promise.all(
        Array.from({ length: n }, () => openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY, session })),
      );
      // Some are abandoned before they are answered: nobody waits for those answers.
      for (const bidi of opened) bidi.response.catch(() => undefined);
      // Abandoned at random points: before the 200, after it, mid-message.
      await Promise.all(
        opened.map(async (bidi) => {
          const when = r.int(0, 2);
          if (when >= 1) await withCap("a 200", bidi.response).catch(() => undefined);
          if (when === 2) await bidi.send(randomPart(r), (e) => e.subarray(0, r.int(1, e.length - 1))).catch(() => undefined);
        }),
      );
      if (r.next() < 0.5) session.destroy();
      else {
        for (const bidi of opened) bidi.stream.close(http2.constants.NGHTTP2_CANCEL);
        session.close();
      }
    },
  },
  "a client that never reads while the model floods": {
    weight: 1,
    run: async (r) => {
      const session = http2.connect(sluice.url, { settings: { initialWindowSize: 65_535 } });
      session.on("error", () => {});
      const bidi = await openEcho({ session });
      bidi.stream.pause();
      // The echo sends back everything: 8 MiB the client never reads.
      const part = { Bytes: r.bytes(MAX_PAYLOAD), DataType: "BINARY" as const };
      for (let i = 0; i < (8 * MiB) / MAX_PAYLOAD; i++) await bidi.send(part);
      // Sluice must stop reading the client rather than hold the model's answers. Sample what it
      // holds until the flood has come to a stop (the same non-zero figure twice running).
      let most = 0;
      let last = -1;
      for (let i = 0; i < 100; i++) {
        const now = sluice.server.stats().bufferedBytes;
        most = Math.max(most, now);
        if (now > 0 && now === last) break;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      floodPeak = Math.max(floodPeak, most);
      assert.ok(most < 6 * MiB, `Sluice held ${most} bytes for sessions whose clients do not read`);
      session.destroy();
    },
  },
  "random HTTP/2 frames": {
    weight: 2,
    run: async (r) => {
      const h2 = await RawH2.connect(sluice.url);
      try {
        // Frames of every type, valid-looking or not: bad HPACK, DATA on idle streams, window
        // updates of 0 or past 2^31, SETTINGS of odd lengths, unknown types, stream id 0 where
        // it is not allowed. nghttp2 answers with resets or GOAWAY; Sluice must just let go.
        for (let n = r.int(1, 12); n > 0; n--) {
          const type = r.int(0, 12);
          const streamId = r.pick([0, 1, 3, r.int(1, 0x7fffffff)]);
          h2.raw(encodeFrame(type, r.int(0, 255), streamId, r.bytes(r.pick([0, 4, 5, 6, 8, r.int(0, 64)]))));
        }
        if (r.next() < 0.5) h2.raw(r.bytes(r.int(1, 64)));
        // Give Sluice the chance to answer (a PING round trip is ordered after what we sent),
        // unless it has already hung up.
        h2.raw(encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(8)));
        await h2.until(() => h2.closed || h2.goaway !== undefined || h2.pingAcks > 0, "an answer to the PING").catch(() => undefined);
      } finally {
        h2.close();
      }
    },
  },
  "bad request signature": {
    weight: 1,
    run: async () => {
      const bidi = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: { ...TEST_KEY, secretAccessKey: "wrong" } });
      const headers = await withCap("the 403", bidi.response);
      assert.equal(headers[":status"], 403);
      assert.equal(headers["x-amzn-errortype"], "InvalidSignatureException");
      bidi.close();
    },
  },
  "malformed control-plane JSON": {
    weight: 5,
    run: async (r) => {
      const target = r.pick([
        "CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint", "DescribeEndpoint", "DescribeModel",
        "ListEndpoints", "ListModels", "DeleteModel", "DeleteEndpoint", "UpdateEndpointWeightsAndCapacities", "AddTags",
        "ListTags", "DeleteTags", "Bogus",
      ]);
      const body = hostileJson(r);
      const { status, json } = await controlCall(`SageMaker.${target}`, body);
      // Generated JSON is sometimes a valid request ({} lists endpoints); never our failure.
      assert.ok(status < 500, `${target} answered ${status} to ${JSON.stringify(body.subarray(0, 80).toString())}: ${JSON.stringify(json)}`);
      if (status >= 400) assert.equal(typeof json.__type, "string");
    },
  },
};

function hostileJson(r: Rng): Buffer {
  const value = (depth: number): unknown => {
    const k = r.int(0, depth > 3 ? 4 : 7);
    if (k === 0) return r.int(-1e9, 1e9) * (r.next() < 0.1 ? 1e300 : 1);
    if (k === 1) return r.pick(["", "x".repeat(r.int(0, 300)), "\u0000", "arn:aws:sagemaker:", "sluice/echo", "../../etc/passwd", "💥"]);
    if (k === 2) return r.pick([null, true, false]);
    if (k === 3) return [];
    if (k === 4) return {};
    if (k === 5) return Array.from({ length: r.int(0, 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = r.int(0, 5); i > 0; i--) {
      o[r.pick(["ModelName", "EndpointName", "EndpointConfigName", "PrimaryContainer", "ProductionVariants", "Tags", "ResourceArn", "TagKeys", "MaxResults", "NextToken", "Image", "__proto__", "constructor", "SortBy", "DesiredWeightsAndCapacities"])] = value(depth + 1);
    }
    return o;
  };
  const kind = r.int(0, 5);
  if (kind === 0) return r.bytes(r.int(0, 256));
  if (kind === 1) return Buffer.from(JSON.stringify(value(0)).slice(0, r.int(0, 40)));
  if (kind === 2) return Buffer.from("[".repeat(r.int(1, 50_000)) + "]".repeat(r.int(0, 10)));
  if (kind === 3) return Buffer.from(`{"a":`.repeat(r.int(1, 20_000)) + "1" + "}".repeat(r.int(0, 20_000)));
  return Buffer.from(JSON.stringify(value(0)) ?? "null");
}

async function controlCall(target: string, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(sluice.url);
  const headers: Record<string, string> = { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": target };
  const signed = await signRequest({ method: "POST", path: "/", headers, body, region: "us-east-1", credentials: TEST_KEY });
  return withCap(
    "a control-plane answer",
    new Promise((resolve, reject) => {
      const req = http.request(sluice.url, { method: "POST", headers: { ...signed.headers, "content-length": String(body.length) }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on("error", reject);
      req.end(body);
    }),
  );
}

/** One good session on a new connection: an echo, CloseStream, a clean end. */
async function goodSession(): Promise<void> {
  const bidi = await openEcho();
  await bidi.send(utf8("hello after the storm"));
  await bidi.send(utf8('{"type":"CloseStream"}'));
  await bidi.end();
  const messages = await withCap("the good session's end", bidi.messages());
  bidi.close();
  assert.deepEqual(
    messages.map((m) => (m.kind === "event" ? text(m.event.PayloadPart.Bytes) : m)),
    ["hello after the storm", '{"type":"CloseStream"}'],
  );
}

function forcedGcHeapUsed(): number {
  v8.setFlagsFromString("--expose_gc");
  const gc = vm.runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function settledEmpty(baselineConnections: number): Promise<void> {
  await waitFor(
    "Sluice to hold nothing",
    () => {
      const s = sluice.server.stats();
      return s.openSessions === 0 && s.leasedSessions === 0 && s.bufferedBytes === 0 && s.connections === baselineConnections ? true : undefined;
    },
    CASE_CAP_MS,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; stats ${JSON.stringify(sluice.server.stats())}`);
  });
}

test(`hostile input: ${CASES} cases (seed ${SEED}), checked every ${BATCH}`, { timeout: 30 * 60_000 }, async (t) => {
  await goodSession();
  await settledEmpty(0);
  const baseline = sluice.server.stats().connections;
  const heapAtStart = forcedGcHeapUsed();
  const r = rng(SEED);
  // SLUICE_FUZZ_KINDS="bad prelude CRC,random bytes" runs only those kinds (when chasing a bug).
  const only = process.env.SLUICE_FUZZ_KINDS?.split(",").map((k) => k.trim());
  const kinds = Object.entries(CASES_BY_KIND).filter(([name]) => !only || only.includes(name));
  assert.ok(kinds.length > 0, `no case kind matches SLUICE_FUZZ_KINDS; kinds are: ${Object.keys(CASES_BY_KIND).join(", ")}`);
  const totalWeight = kinds.reduce((n, [, k]) => n + k.weight, 0);
  const pickKind = (): [string, CaseFn] => {
    let x = r.next() * totalWeight;
    for (const [name, k] of kinds) if ((x -= k.weight) < 0) return [name, k.run];
    return [kinds[0]![0], kinds[0]![1].run];
  };
  const seen = new Map<string, number>();

  for (let start = 0; start < CASES; start += BATCH) {
    const end = Math.min(start + BATCH, CASES);
    // Every case draws from its own generator, seeded from the main one, so running them
    // concurrently does not change what each one does.
    const batch = Array.from({ length: end - start }, (_, i) => {
      const [name, run] = pickKind();
      seen.set(name, (seen.get(name) ?? 0) + 1);
      return { index: start + i, name, run, seed: r.int(0, 0xffffffff) };
    });
    for (let i = 0; i < batch.length; i += PARALLEL) {
      await Promise.all(
        batch.slice(i, i + PARALLEL).map(async (c) => {
          try {
            await withCap(c.name, c.run(rng(c.seed)));
          } catch (err) {
            throw new Error(`case ${c.index} "${c.name}" (SLUICE_FUZZ_SEED=${SEED}) failed: ${(err as Error).message}`, { cause: err });
          }
        }),
      );
    }
    await settledEmpty(baseline);
    await goodSession();
    await settledEmpty(baseline);
    t.diagnostic(`after ${end} cases: heap used after GC ${(forcedGcHeapUsed() / MiB).toFixed(1)} MiB`);
  }
  t.diagnostic(`cases by kind: ${JSON.stringify(Object.fromEntries(seen))}`);
  t.diagnostic(`most bytes held while a client did not read (8 MiB sent back at it): ${floodPeak}`);

  const heapAtEnd = forcedGcHeapUsed();
  t.diagnostic(`heap used after GC: ${(heapAtStart / MiB).toFixed(1)} MiB at start, ${(heapAtEnd / MiB).toFixed(1)} MiB at end`);
  assert.ok(heapAtEnd - heapAtStart < 20 * MiB, `heap grew by ${((heapAtEnd - heapAtStart) / MiB).toFixed(1)} MiB`);

  // Sluice holds the database exclusively while it runs: check it once Sluice has shut down
  // (as after a crash-free stop, which this is too).
  const databaseFile = sluice.server.stats().databaseFile;
  await sluice.server.close();
  const db = new Database(databaseFile, { readonly: true });
  try {
    assert.deepEqual(db.pragma("integrity_check"), [{ integrity_check: "ok" }]);
  } finally {
    db.close();
  }
});
