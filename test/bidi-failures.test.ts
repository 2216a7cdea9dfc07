// Issue 3's failure tests, each awaiting the event it expects: the pre-200 error rows that need
// no routing faults or signatures, a model without the capability label, a refused upgrade, an
// instance killed mid-stream, a container that never answers pings, a client cancel, and a
// client that stops reading while the container keeps sending.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  InvokeEndpointWithBidirectionalStreamCommand,
  ModelStreamError,
  SageMakerRuntimeHTTP2Client,
  type RequestStreamEvent,
} from "../src/client/index.js";
import { closeSession, connect, partOf, Pushable, RawBidi, REGION, text, textOf } from "./helpers/bidi.js";
import { controlClient, deployEndpoint, fetchMetric, readReport, testModelDir } from "./helpers/deploy.js";
import { startSluice, TEST_KEY, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const PING_INTERVAL_MS = 200;
const MAX_MISSED_PONGS = 5;

let sluice: SluiceProcess;
let client: SageMakerRuntimeHTTP2Client;
const reports = { nocap: "", refuser: "", victim: "", nopong: "", recorder: "" };

before(async () => {
  sluice = await startSluice({
    args: ["--ping-interval", `${PING_INTERVAL_MS}ms`, "--max-missed-pongs", String(MAX_MISSED_PONGS), "--ws-connect-timeout", "1s"],
  });
  for (const name of Object.keys(reports) as (keyof typeof reports)[]) reports[name] = join(sluice.dataDir, `${name}.jsonl`);
  const sm = controlClient(sluice.url);
  const behaving = testModelDir("behaving");
  await Promise.all([
    deployEndpoint(sm, { name: "echo", image: "sluice/echo" }),
    deployEndpoint(sm, { name: "nocap", image: testModelDir("no-capability"), environment: { MODE: "record", REPORT_FILE: reports.nocap } }),
    deployEndpoint(sm, { name: "refuser", image: behaving, environment: { MODE: "refuse", REPORT_FILE: reports.refuser } }),
    deployEndpoint(sm, { name: "victim", image: behaving, environment: { MODE: "record", REPORT_FILE: reports.victim } }),
    deployEndpoint(sm, { name: "nopong", image: behaving, environment: { MODE: "nopong", REPORT_FILE: reports.nopong } }),
    deployEndpoint(sm, { name: "recorder", image: behaving, environment: { MODE: "record", REPORT_FILE: reports.recorder } }),
  ]);
  sm.destroy();
  client = new SageMakerRuntimeHTTP2Client({ region: REGION, endpoint: sluice.url, credentials: TEST_KEY });
});

after(async () => {
  client?.destroy();
  await sluice?.cleanup();
});

/** Opens one raw stream, returns its status, error type header and JSON body, then closes. */
async function refused(endpointName: string, headers: Record<string, string> = {}) {
  const session = await connect(sluice.url);
  try {
    const s = await RawBidi.open(session, sluice.url, { endpointName, headers });
    const response = await s.response;
    const body = await s.errorBody();
    // Our side of the stream is still open (the request never ended): close it.
    s.stream.close();
    return { status: response.status, type: response.headers["x-amzn-errortype"], requestId: response.headers["x-amzn-requestid"], body };
  } finally {
    await closeSession(session);
  }
}

describe("errors before the 200", () => {
  const rows: { name: string; endpoint: string; headers?: Record<string, string>; message: RegExp }[] = [
    { name: "an unknown endpoint", endpoint: "no-such-endpoint", message: /^Endpoint no-such-endpoint of account 000000000000 not found\.$/ },
    {
      name: "an invocation path with a leading slash",
      endpoint: "echo",
      headers: { "x-amzn-sagemaker-model-invocation-path": "/v1/listen" },
      message: /^1 validation error detected: Value '\/v1\/listen' at 'modelInvocationPath' \(header X-Amzn-SageMaker-Model-Invocation-Path\) failed to satisfy constraint: Member must satisfy regular expression pattern/,
    },
    {
      name: "a query string that is not k=v pairs",
      endpoint: "echo",
      headers: { "x-amzn-sagemaker-model-query-string": "model=nova-3&&x=1" },
      message: /^1 validation error detected: Value 'model=nova-3&&x=1' at 'modelQueryString' \(header X-Amzn-SageMaker-Model-Query-String\) failed to satisfy constraint: Member must satisfy regular expression pattern/,
    },
    {
      name: "a target variant over 63 characters",
      endpoint: "echo",
      headers: { "x-amzn-sagemaker-target-variant": "v".repeat(64) },
      message: /at 'targetVariant' \(header X-Amzn-SageMaker-Target-Variant\) failed to satisfy constraint: Member must have length less than or equal to 63$/,
    },
    {
      name: "an unknown variant",
      endpoint: "echo",
      headers: { "x-amzn-sagemaker-target-variant": "NoSuchVariant" },
      message: /^Variant NoSuchVariant not found for endpoint echo of account 000000000000\.$/,
    },
  ];
  for (const row of rows) {
    test(`${row.name} → 400 InputValidationError`, async () => {
      const r = await refused(row.endpoint, row.headers);
      assert.equal(r.status, 400);
      assert.equal(r.type, "InputValidationError");
      assert.ok(r.requestId, "x-amzn-requestid");
      assert.match(String(r.body.Message), row.message);
    });
  }

  test("a model without the capability label → 424 ModelError, and no WebSocket is dialled", async () => {
    const r = await refused("nocap");
    assert.equal(r.status, 424);
    assert.equal(r.type, "ModelError");
    assert.match(String(r.body.Message), /does not declare bidirectional streaming/);
    assert.match(String(r.body.Message), /com\.amazonaws\.sagemaker\.capabilities\.bidirectional-streaming=true/);
    // The instance is up (it answered /ping to be InService) and saw no upgrade at all.
    assert.deepEqual(readReport(reports.nocap), []);
  });

  test("an instance that refuses the upgrade → 424 ModelError with OriginalStatusCode, OriginalMessage and LogStreamArn", async () => {
    const r = await refused("refuser");
    assert.equal(r.status, 424);
    assert.equal(r.type, "ModelError");
    assert.equal(r.body.OriginalStatusCode, 403);
    assert.equal(r.body.OriginalMessage, "this model takes no sessions");
    assert.match(String(r.body.LogStreamArn), /^arn:aws:logs:us-east-1:000000000000:log-group:\/aws\/sagemaker\/Endpoints\/refuser:log-stream:AllTraffic\//);
    assert.match(String(r.body.Message), /HTTP 403/);
    // The model really was asked.
    assert.deepEqual(readReport(reports.refuser).map((e) => e.event), ["upgrade"]);
  });
});

describe("errors after the 200", () => {
  test("the instance killed with SIGKILL mid-stream → the frames it had sent, then ModelStreamError StreamBroken", async () => {
    const query = "test=sigkill";
    const body = new Pushable<RequestStreamEvent>();
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "victim", ModelQueryString: query, Body: body }));
    for (const word of ["one", "two", "three"]) body.push({ PayloadPart: { Bytes: Buffer.from(word), DataType: "UTF8" } });
    // The model echoes each message as it reports it; nothing has been read from the response yet.
    const seen = await waitFor("the model to have echoed three messages", () => {
      const mine = readReport(reports.victim).filter((e) => e.query === query && e.event === "message");
      return mine.length === 3 ? mine : undefined;
    }, 15_000, 20);
    const pid = Number(seen[0]!.pid);
    process.kill(pid, "SIGKILL");
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of out.Body) got.push(Buffer.from(e.PayloadPart.Bytes!).toString());
      })(),
      (err: unknown) => {
        assert.ok(err instanceof ModelStreamError, `got ${String(err)}`);
        assert.equal(err.ErrorCode, "StreamBroken");
        assert.match(String(err.Message), /ended without a WebSocket close/);
        return true;
      },
    );
    assert.deepEqual(got, ["one", "two", "three"]);
    body.end();
  });

  test("a container that never answers pings → ModelStreamError ModelInvocationTimeExceeded after at least 5 pings it counted", async () => {
    const query = "test=nopong";
    const body = new Pushable<RequestStreamEvent>();
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "nopong", ModelQueryString: query, Body: body }));
    await assert.rejects(
      (async () => {
        for await (const e of out.Body) assert.fail(`unexpected event ${JSON.stringify(e)}`);
      })(),
      (err: unknown) => {
        assert.ok(err instanceof ModelStreamError, `got ${String(err)}`);
        assert.equal(err.ErrorCode, "ModelInvocationTimeExceeded");
        assert.equal(err.Message, `the model did not answer ${MAX_MISSED_PONGS} pings in a row (one every ${PING_INTERVAL_MS} ms)`);
        return true;
      },
    );
    body.end();
    const mine = await waitFor("the container to see the close", () => {
      const lines = readReport(reports.nopong).filter((e) => e.query === query);
      return lines.some((e) => e.event === "close") ? lines : undefined;
    }, 15_000, 20);
    const pings = mine.filter((e) => e.event === "ping").length;
    assert.ok(pings >= MAX_MISSED_PONGS, `the container counted ${pings} pings`);
    assert.equal(mine.find((e) => e.event === "close")!.code, 1001);
  });

  test("a client cancel (RST_STREAM) closes the container's WebSocket", async () => {
    const query = "test=cancel";
    const session = await connect(sluice.url);
    try {
      const s = await RawBidi.open(session, sluice.url, { endpointName: "recorder", headers: { "x-amzn-sagemaker-model-query-string": query } });
      assert.equal((await s.response).status, 200);
      const messages = s.messages();
      await s.send(text("hello"));
      assert.equal(textOf((await messages.next()).value), "hello");
      s.cancel();
      const close = await waitFor("the container to see the close", () =>
        readReport(reports.recorder).find((e) => e.query === query && e.event === "close"),
      15_000, 20);
      assert.equal(close.code, 1001);
      assert.equal(close.reason, "client cancelled");
    } finally {
      await closeSession(session);
    }
  });

  test("a client that stops reading while the container keeps sending: the session's buffered bytes stay under 1 MiB, and nothing is lost", async () => {
    const BOUND = 1024 * 1024;
    const TOTAL = 32 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const query = "test=flood";
    const session = await connect(sluice.url);
    try {
      const s = await RawBidi.open(session, sluice.url, { endpointName: "recorder", headers: { "x-amzn-sagemaker-model-query-string": query } });
      assert.equal((await s.response).status, 200);
      // Nothing reads the response yet: HTTP/2 flow control stops at the client's window.
      await s.send(text(JSON.stringify({ type: "flood", total: TOTAL, chunk: CHUNK })));
      const blocked = await waitFor("the model to be held back", () => {
        const mine = readReport(reports.recorder).filter((e) => e.query === query);
        if (mine.some((e) => e.event === "flooded")) throw new Error(`the model sent all ${TOTAL} bytes unhindered`);
        return mine.find((e) => e.event === "blocked");
      }, 30_000, 20);
      assert.ok(Number(blocked.sent) < TOTAL, "the model was held back before it had sent everything");
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        samples.push(await fetchMetric(sluice.url, "sluice_session_buffered_bytes"));
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(Math.max(...samples) <= BOUND, `buffered bytes ${samples.join(", ")}`);
      assert.ok(Math.max(...samples) > 0, "the session holds what the client has not read");
      // Now read: every byte arrives, in order, and the session ends cleanly.
      let received = 0;
      for await (const m of s.messages()) {
        const bytes = partOf(m).Bytes;
        for (let i = 0; i < bytes.length; i++) {
          if (bytes[i] !== (received + i) % 251) assert.fail(`byte ${received + i} is ${bytes[i]}`);
        }
        received += bytes.length;
      }
      assert.equal(received, TOTAL);
      assert.equal(s.stream.readableEnded, true);
      s.stream.close();
    } finally {
      await closeSession(session);
    }
  });
});
