// Issue 3, "What it must show", the data path: InvokeEndpointWithBidirectionalStream end to end
// against a running Sluice with the echo endpoint deployed through the control plane, driven by
// the Sluice client (src/client/) and, where a test needs exact control of the HTTP/2 stream
// (one connection for 100 sessions, when END_STREAM goes), by the raw client in helpers/bidi.ts.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  InternalStreamFailure,
  InvokeEndpointWithBidirectionalStreamCommand,
  SageMakerRuntimeHTTP2Client,
  type RequestStreamEvent,
  type ResponseStreamEvent,
} from "../src/client/index.js";
import type { PayloadPart } from "../src/protocol/events.js";
import { binary, closeSession, connect, partOf, Pushable, RawBidi, REGION, text, textOf } from "./helpers/bidi.js";
import { controlClient, deployEndpoint, readReport, testModelDir } from "./helpers/deploy.js";
import { startSluice, TEST_KEY, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const CLOSE_STREAM = '{"type":"CloseStream"}';

let sluice: SluiceProcess;
let client: SageMakerRuntimeHTTP2Client;
let reportFile: string;

before(async () => {
  sluice = await startSluice();
  const sm = controlClient(sluice.url);
  reportFile = join(sluice.dataDir, "recorder-report.jsonl");
  await Promise.all([
    deployEndpoint(sm, { name: "echo", image: "sluice/echo" }),
    deployEndpoint(sm, { name: "recorder", image: testModelDir("behaving"), environment: { MODE: "record", REPORT_FILE: reportFile } }),
  ]);
  sm.destroy();
  client = new SageMakerRuntimeHTTP2Client({ region: REGION, endpoint: sluice.url, credentials: TEST_KEY });
});

after(async () => {
  client?.destroy();
  await sluice?.cleanup();
});

function event(part: PayloadPart): RequestStreamEvent {
  return { PayloadPart: { ...part } };
}

function utf8(s: string): RequestStreamEvent {
  return { PayloadPart: { Bytes: Buffer.from(s, "utf8"), DataType: "UTF8" } };
}

async function* events(list: RequestStreamEvent[]): AsyncGenerator<RequestStreamEvent> {
  yield* list;
}

async function drain(body: AsyncIterable<ResponseStreamEvent>): Promise<PayloadPart[]> {
  const parts: PayloadPart[] = [];
  for await (const e of body) parts.push(e.PayloadPart as PayloadPart);
  return parts;
}

function hex(bytes: Uint8Array | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString("hex");
}

describe("round trips through the echo endpoint", () => {
  test("text comes back UTF8 and binary comes back BINARY, byte for byte, then CloseStream ends the session cleanly", async () => {
    const sent = [
      utf8("héllo wörld ✓ 🎉"),
      event(binary(Uint8Array.from({ length: 256 }, (_, i) => i))),
      // Bytes that read as text still come back BINARY, and JSON-looking text stays UTF8.
      event(binary(Buffer.from("looks like text"))),
      utf8('{"type":"not-a-control"}'),
      event(binary(new Uint8Array(0))),
      utf8(CLOSE_STREAM),
    ];
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: events(sent) }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.InvokedProductionVariant, "AllTraffic");
    const got = await drain(out.Body);
    assert.deepEqual(
      got.map((p) => ({ bytes: hex(p.Bytes), DataType: p.DataType, CompletionState: p.CompletionState })),
      sent.map((e) => ({ bytes: hex(e.PayloadPart.Bytes), DataType: e.PayloadPart.DataType, CompletionState: "COMPLETE" })),
    );
  });

  test("each echo arrives while the session is open, before the next message is sent", async () => {
    const body = new Pushable<RequestStreamEvent>();
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: body }));
    const it = out.Body[Symbol.asyncIterator]();
    for (const word of ["one", "two", "three"]) {
      body.push(utf8(word));
      const next = await it.next();
      assert.equal(next.done, false);
      assert.equal(Buffer.from(next.value!.PayloadPart.Bytes!).toString(), word);
    }
    body.push(utf8(CLOSE_STREAM));
    body.end();
    assert.equal(Buffer.from((await it.next()).value!.PayloadPart.Bytes!).toString(), CLOSE_STREAM);
    assert.equal((await it.next()).done, true);
  });

  test("1,000 messages on one session come back in order, each with its data type", async () => {
    const N = 1000;
    const message = (i: number): RequestStreamEvent =>
      i % 2 === 0 ? utf8(`message ${i}`) : event(binary(Buffer.from(`bin ${i}:` + "x".repeat(i % 97))));
    async function* body(): AsyncGenerator<RequestStreamEvent> {
      for (let i = 0; i < N; i++) yield message(i);
      yield utf8(CLOSE_STREAM);
    }
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: body() }));
    const got = await drain(out.Body);
    assert.equal(got.length, N + 1);
    for (let i = 0; i < N; i++) {
      const want = message(i).PayloadPart;
      assert.equal(hex(got[i]!.Bytes), hex(want.Bytes), `message ${i}`);
      assert.equal(got[i]!.DataType, want.DataType, `message ${i}`);
    }
    assert.equal(Buffer.from(got[N]!.Bytes!).toString(), CLOSE_STREAM);
  });

  test("a single 16 MiB payload comes back whole, as one part", async () => {
    const payload = randomBytes(16 * 1024 * 1024);
    const out = await client.send(
      new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: events([event(binary(payload)), utf8(CLOSE_STREAM)]) }),
    );
    const got = await drain(out.Body);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.DataType, "BINARY");
    assert.equal(got[0]!.CompletionState, "COMPLETE");
    assert.equal(got[0]!.Bytes!.byteLength, payload.length);
    assert.equal(createHash("sha256").update(got[0]!.Bytes!).digest("hex"), createHash("sha256").update(payload).digest("hex"));
  });
});

describe("regression: client session memory", () => {
  // src/client wrote each envelope whole. A 16 MiB one, written before the 200 (Sluice reads
  // nothing until the container's WebSocket is open), sat in the HTTP/2 session over Node's
  // maxSessionMemory (10 MB), so the response headers were refused: that stream and every later
  // stream of the client were reset with ENHANCE_YOUR_CALM.
  test("16 MiB events sent before the response neither break their session nor later ones on the same client", async () => {
    const big = randomBytes(16 * 1024 * 1024);
    const own = new SageMakerRuntimeHTTP2Client({ region: REGION, endpoint: sluice.url, credentials: TEST_KEY });
    try {
      for (let round = 0; round < 2; round++) {
        const out = await own.send(
          new InvokeEndpointWithBidirectionalStreamCommand({
            EndpointName: "echo",
            Body: events([event(binary(big)), event(binary(big)), utf8(CLOSE_STREAM)]),
          }),
        );
        const got = await drain(out.Body);
        assert.deepEqual(got.map((p) => p.Bytes!.byteLength), [big.length, big.length, CLOSE_STREAM.length], `round ${round}`);
      }
      const out = await own.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: events([utf8(CLOSE_STREAM)]) }));
      assert.equal((await drain(out.Body)).length, 1);
    } finally {
      own.destroy();
    }
  });
});

describe("concurrent sessions", () => {
  const SESSIONS = 100;

  /** Opens every session first (all 100 open at once), then runs each one's exchange. */
  async function runSessions(sessionFor: (i: number) => Promise<RawBidi>): Promise<void> {
    const streams = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => sessionFor(i)));
    const responses = await Promise.all(streams.map((s) => s.response));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    await Promise.all(
      streams.map(async (s, i) => {
        const mine = [text(`session ${i} first`), binary(Buffer.from([i, 0xff - i, i])), text(`session ${i} last`)];
        const collected = s.collect();
        for (const part of mine) await s.send(part);
        await s.send(text(CLOSE_STREAM));
        await s.end();
        const { messages, ended } = await collected;
        assert.equal(ended, true, `session ${i} ended cleanly`);
        assert.deepEqual(
          messages.map((m) => ({ hex: hex(partOf(m).Bytes), type: partOf(m).DataType })),
          [...mine, text(CLOSE_STREAM)].map((p) => ({ hex: hex(p.Bytes), type: p.DataType })),
          `session ${i} got exactly its own echoes`,
        );
      }),
    );
  }

  test("100 sessions on one HTTP/2 connection, none mixed up", async () => {
    const session = await connect(sluice.url);
    try {
      await runSessions(() => RawBidi.open(session, sluice.url, { endpointName: "echo" }));
    } finally {
      await closeSession(session);
    }
  });

  test("100 sessions on 100 separate connections, none mixed up", async () => {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => connect(sluice.url)));
    try {
      await runSessions((i) => RawBidi.open(sessions[i]!, sluice.url, { endpointName: "echo" }));
    } finally {
      await Promise.all(sessions.map(closeSession));
    }
  });
});

describe("PARTIAL runs", () => {
  test("PARTIAL…COMPLETE parts become one WebSocket message: the echo answers once with the whole message", async () => {
    // "naïve ✓" with the ï and the ✓ each cut between two parts: only the whole is valid UTF-8.
    const whole = Buffer.from("naïve ✓ done", "utf8");
    const cuts = [3, 8, 10];
    const pieces = [whole.subarray(0, cuts[0]), whole.subarray(cuts[0], cuts[1]), whole.subarray(cuts[1], cuts[2]), whole.subarray(cuts[2])];
    const bin = randomBytes(3000);
    const sent: RequestStreamEvent[] = [
      ...pieces.map((p, i) => ({ PayloadPart: { Bytes: p, DataType: "UTF8", CompletionState: i < pieces.length - 1 ? "PARTIAL" : "COMPLETE" } })),
      { PayloadPart: { Bytes: bin.subarray(0, 1000), DataType: "BINARY", CompletionState: "PARTIAL" } },
      { PayloadPart: { Bytes: bin.subarray(1000, 2000), DataType: "BINARY", CompletionState: "PARTIAL" } },
      { PayloadPart: { Bytes: bin.subarray(2000), DataType: "BINARY", CompletionState: "COMPLETE" } },
      utf8(CLOSE_STREAM),
    ];
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: events(sent) }));
    const got = await drain(out.Body);
    assert.deepEqual(
      got.map((p) => ({ hex: hex(p.Bytes), DataType: p.DataType, CompletionState: p.CompletionState })),
      [
        { hex: whole.toString("hex"), DataType: "UTF8", CompletionState: "COMPLETE" },
        { hex: bin.toString("hex"), DataType: "BINARY", CompletionState: "COMPLETE" },
        { hex: Buffer.from(CLOSE_STREAM).toString("hex"), DataType: "UTF8", CompletionState: "COMPLETE" },
      ],
    );
  });

  const badRuns: { name: string; run: RequestStreamEvent[]; endsInput?: boolean }[] = [
    {
      name: "a data type change within a run",
      run: [
        { PayloadPart: { Bytes: Buffer.from("text start "), DataType: "UTF8", CompletionState: "PARTIAL" } },
        { PayloadPart: { Bytes: Buffer.from([1, 2, 3]), DataType: "BINARY", CompletionState: "COMPLETE" } },
      ],
    },
    {
      name: "invalid UTF-8 in a UTF8 run",
      run: [
        { PayloadPart: { Bytes: Buffer.from("valid start "), DataType: "UTF8", CompletionState: "PARTIAL" } },
        { PayloadPart: { Bytes: Buffer.from([0xc3]), DataType: "UTF8", CompletionState: "PARTIAL" } },
        { PayloadPart: { Bytes: Buffer.from([0x28, 0x41]), DataType: "UTF8", CompletionState: "COMPLETE" } },
      ],
    },
    {
      name: "input ending within a run",
      run: [
        { PayloadPart: { Bytes: Buffer.from("never finished "), DataType: "UTF8", CompletionState: "PARTIAL" } },
        { PayloadPart: { Bytes: Buffer.from("still not "), DataType: "UTF8", CompletionState: "PARTIAL" } },
      ],
      endsInput: true,
    },
  ];

  for (const { name, run, endsInput } of badRuns) {
    test(`${name} ends the session with InternalStreamFailure MalformedEvent, nothing of the run echoed`, async () => {
      const body = new Pushable<RequestStreamEvent>();
      const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: body }));
      const it = out.Body[Symbol.asyncIterator]();
      body.push(utf8("before the run"));
      assert.equal(Buffer.from((await it.next()).value!.PayloadPart.Bytes!).toString(), "before the run");
      for (const part of run) body.push(part);
      if (endsInput) body.end();
      // The very next thing is the failure: no part of the run, nothing after it.
      await assert.rejects(it.next(), (err: unknown) => {
        assert.ok(err instanceof InternalStreamFailure, `got ${String(err)}`);
        assert.equal(err.Message, "MalformedEvent");
        return true;
      });
      body.end();
    });
  }

  test("the container is sent nothing of a malformed run and sees the session closed 1008", async () => {
    const before = readReport(reportFile).length;
    const body = new Pushable<RequestStreamEvent>();
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "recorder", Body: body }));
    const it = out.Body[Symbol.asyncIterator]();
    body.push(utf8("before the run"));
    assert.equal(Buffer.from((await it.next()).value!.PayloadPart.Bytes!).toString(), "before the run");
    body.push({ PayloadPart: { Bytes: Buffer.from("part one "), DataType: "UTF8", CompletionState: "PARTIAL" } });
    body.push({ PayloadPart: { Bytes: Buffer.from([9, 9]), DataType: "BINARY", CompletionState: "COMPLETE" } });
    body.end();
    await assert.rejects(it.next(), InternalStreamFailure);
    const seen = await waitFor("the recorder to see the close", () => {
      const mine = readReport(reportFile).slice(before);
      return mine.some((e) => e.event === "close") ? mine : undefined;
    }, 15_000, 20);
    assert.deepEqual(
      seen.filter((e) => e.event !== "upgrade").map(({ event, text, code }) => ({ event, text, code })),
      [
        { event: "open", text: undefined, code: undefined },
        { event: "message", text: "before the run", code: undefined },
        { event: "close", text: undefined, code: 1008 },
      ],
    );
  });
});

describe("what reaches the container", () => {
  test("ModelInvocationPath and ModelQueryString arrive as the WebSocket's path and query", async () => {
    const info = async (input: { ModelInvocationPath?: string; ModelQueryString?: string }) => {
      const out = await client.send(
        new InvokeEndpointWithBidirectionalStreamCommand({
          EndpointName: "echo",
          ...input,
          Body: events([utf8('{"type":"sluice.echo.info"}'), utf8(CLOSE_STREAM)]),
        }),
      );
      const got = await drain(out.Body);
      assert.equal(got.length, 2);
      return JSON.parse(Buffer.from(got[0]!.Bytes!).toString()) as { path: string; query: string; pid: number };
    };
    const custom = await info({ ModelInvocationPath: "v1/listen", ModelQueryString: "model=nova-3&encoding=linear16&tag=a%20b" });
    assert.equal(custom.path, "/v1/listen");
    assert.equal(custom.query, "model=nova-3&encoding=linear16&tag=a%20b");
    const plain = await info({});
    assert.equal(plain.path, "/invocations-bidirectional-stream");
    assert.equal(plain.query, "");
  });

  test("after the client's input has ended, everything the container still sends arrives, then a clean end", async () => {
    const go = join(sluice.dataDir, `go-${Date.now()}`);
    const owed = 50;
    const session = await connect(sluice.url);
    try {
      const s = await RawBidi.open(session, sluice.url, { endpointName: "recorder" });
      assert.equal((await s.response).status, 200);
      const collected = s.collect();
      await s.send(text(JSON.stringify({ type: "owe", count: owed, after: go })));
      await s.end();
      // Only now, with the input ended (empty envelope and END_STREAM sent), may the model pay.
      writeFileSync(go, "");
      const { messages, ended } = await collected;
      assert.equal(ended, true);
      assert.deepEqual(
        messages.map((m) => textOf(m)),
        Array.from({ length: owed }, (_, i) => `owed ${i}`),
      );
    } finally {
      await closeSession(session);
    }
  });
});
