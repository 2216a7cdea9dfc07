import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { errorResponse } from "../protocol/aws-error-response.js";
import { AwsError } from "../protocol/aws-error.js";
import type { PayloadPart } from "../protocol/events.js";
import { RequestEventReader } from "../protocol/request-event-reader.js";
import { EventVerifier } from "../protocol/sigv4-event-verifier.js";
import { verifyRequest, type VerifiedRequest } from "../protocol/sigv4-verify-request.js";
import {
  InputValidationError,
  InternalServerError,
  InternalStreamFailure,
  InvokeEndpointWithBidirectionalStreamCommand,
  ModelError,
  ModelStreamError,
  SageMakerRuntimeHTTP2Client,
  SageMakerRuntimeHTTP2ServiceException,
  ServiceUnavailableError,
  AbortError,
  type RequestStreamEvent,
} from "./index.js";
import { encodeStreamError } from "../protocol/stream-error-message.js";
import { responseBody, run3ClientResult } from "../../test/fixtures/real-client/index.js";

const credentials = { accessKeyId: "AKIDTEST", secretAccessKey: "secret/for+tests" };

interface Received {
  headers: http2.IncomingHttpHeaders;
  verified: VerifiedRequest;
  parts: PayloadPart[];
  ended: boolean;
  /** Resolves when the request side has finished (end envelope + END_STREAM), or rejects. */
  done: Promise<void>;
  stream: http2.ServerHttp2Stream;
  /** Resolves with the stream's RST code once it closes. */
  closed: Promise<number>;
  /** Emits "part" for each verified PayloadPart. */
  emitter: EventEmitter;
}

type Handler = (stream: http2.ServerHttp2Stream, received: Received) => void;

/** An h2c server that verifies each request and its event chain as Sluice's router does. */
async function startServer(t: TestContext, handler: Handler, options: { slowRead?: boolean } = {}) {
  const server = http2.createServer();
  const requests: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  server.on("stream", (stream, headers) => {
    const verified = verifyRequest(
      { method: String(headers[":method"]), target: String(headers[":path"]), headers },
      { lookupCredentials: (id) => (id === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey } : undefined) },
    );
    const reader = new RequestEventReader({ verifier: new EventVerifier(verified) });
    const received = { headers, verified, parts: [], ended: false, stream, emitter: new EventEmitter() } as unknown as Received;
    received.closed = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? 0)));
    received.done = new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        try {
          for (const item of reader.push(chunk)) {
            if (item.kind === "part") {
              received.parts.push(item.part);
              received.emitter.emit("part");
            } else received.ended = true;
          }
        } catch (err) {
          reject(err);
        }
        if (options.slowRead) {
          stream.pause();
          setImmediate(() => stream.resume());
        }
      });
      stream.on("end", () => {
        try {
          reader.end();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
      stream.on("close", () => reject(new Error("stream closed before the request ended")));
    });
    received.done.catch(() => undefined);
    stream.on("error", () => undefined);
    requests.push(received);
    waiters.shift()?.(received);
    handler(stream, received);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const client = new SageMakerRuntimeHTTP2Client({ region: "us-west-2", endpoint: `http://127.0.0.1:${port}`, credentials });
  t.after(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const next = () =>
    new Promise<Received>((resolve) => {
      const waiting = requests.length > waiters.length ? requests[waiters.length] : undefined;
      if (waiting) resolve(waiting);
      else waiters.push(resolve);
    });
  return { server, client, port, requests, next };
}

async function* events(list: RequestStreamEvent[], gate?: Promise<unknown>): AsyncGenerator<RequestStreamEvent> {
  for (const [i, event] of list.entries()) {
    if (i === 1 && gate) await gate;
    yield event;
  }
}

function respond200(stream: http2.ServerHttp2Stream): void {
  stream.respond({ ":status": 200, "x-amzn-invoked-production-variant": "AllTraffic", "x-amzn-requestid": "req-1" });
}

const utf8 = (s: string) => new TextEncoder().encode(s);

test("the fixture response yields and throws exactly what AWS's client did", async (t) => {
  const expected = run3ClientResult();
  const { client, next } = await startServer(t, (stream) => {
    respond200(stream);
    stream.end(responseBody());
  });
  // The caller's events are frozen: AWS's client would throw deleting their header members.
  const sent = [
    { PayloadPart: { Bytes: utf8("hello"), DataType: "UTF8" } },
    { PayloadPart: { Bytes: Uint8Array.of(0, 1, 2, 3), DataType: "BINARY" } },
    { PayloadPart: { Bytes: utf8('{"type":"CloseStream"}'), DataType: "UTF8", CompletionState: "COMPLETE" } },
  ].map((e) => Object.freeze({ PayloadPart: Object.freeze(e.PayloadPart) }));
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({
      EndpointName: "echo-endpoint",
      ModelInvocationPath: "v1/listen",
      ModelQueryString: "model=nova-3&encoding=linear16",
      Body: events(sent),
    }),
  );
  assert.equal(output.InvokedProductionVariant, expected.InvokedProductionVariant);
  assert.equal(output.$metadata.httpStatusCode, expected.$metadata.httpStatusCode);
  assert.equal(output.$metadata.requestId, "req-1");

  const yielded: unknown[] = [];
  let thrown: unknown;
  try {
    for await (const event of output.Body) yielded.push(event);
  } catch (err) {
    thrown = err;
  }
  assert.deepEqual(
    yielded,
    expected.yielded.map((y) => ({ PayloadPart: { Bytes: utf8(y.event.PayloadPart.Bytes.utf8), DataType: y.event.PayloadPart.DataType } })),
  );
  assert.ok(thrown instanceof ModelStreamError);
  assert.ok(thrown instanceof SageMakerRuntimeHTTP2ServiceException);
  const e = expected.thrown;
  assert.equal(thrown.constructor.name, e.constructorName);
  assert.deepEqual(
    { name: thrown.name, message: thrown.message, $fault: thrown.$fault, Message: thrown.Message, ErrorCode: thrown.ErrorCode },
    { name: e.name, message: e.message, $fault: e.$fault, Message: e.Message, ErrorCode: e.ErrorCode },
  );
  assert.equal(thrown.$metadata.httpStatusCode, 200);
  // As with AWS's client, the error does not tear down the request side: every event and the
  // end envelope still arrive, signed.
  const received = await next();
  await received.done;
  assert.equal(received.parts.length, 3);
  assert.equal(received.ended, true);
});

test("what the client sends verifies: request signature and every event, end envelope included", async (t) => {
  const { client, next } = await startServer(t, (stream, received) => {
    respond200(stream);
    received.done.then(() => stream.end(), () => stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR));
  });
  const sent: RequestStreamEvent[] = [
    { PayloadPart: { Bytes: utf8("hello"), DataType: "UTF8", CompletionState: "PARTIAL", P: "pad" } },
    { PayloadPart: { Bytes: new Uint8Array(300_000).fill(7) } },
    { PayloadPart: { Bytes: utf8("!"), DataType: "UTF8", CompletionState: "COMPLETE" } },
  ];
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "my-endpoint", TargetVariant: "v1", Body: events(sent) }),
  );
  const received = await next();
  await received.done;
  for await (const _ of output.Body) assert.fail("no events expected");
  assert.equal(received.ended, true);
  assert.deepEqual(received.parts, [
    { Bytes: utf8("hello"), DataType: "UTF8", CompletionState: "PARTIAL", P: "pad" },
    { Bytes: new Uint8Array(300_000).fill(7), DataType: "BINARY" },
    { Bytes: utf8("!"), DataType: "UTF8", CompletionState: "COMPLETE" },
  ]);
  assert.equal(received.headers[":path"], "/endpoints/my-endpoint/invocations-bidirectional-stream");
  assert.equal(received.headers["x-amzn-sagemaker-target-variant"], "v1");
  assert.equal(received.headers["content-type"], "application/vnd.amazon.eventstream");
  assert.equal(received.headers["content-length"], undefined);
  assert.equal(received.verified.region, "us-west-2");
  assert.match(String(received.headers["authorization"]), /SignedHeaders=:authority;/);
  // The caller's objects are as they were.
  assert.equal(sent[0]!.PayloadPart.P, "pad");
  assert.equal(sent[0]!.PayloadPart.DataType, "UTF8");
});

test("events start flowing before the response, and send() resolves on the headers", async (t) => {
  const { client, next } = await startServer(t, (stream, received) => {
    // Answer only once the first event has arrived: a client that waited for 200 would hang.
    received.emitter.once("part", () => respond200(stream));
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({
      EndpointName: "e",
      Body: events([{ PayloadPart: { Bytes: utf8("a") } }, { PayloadPart: { Bytes: utf8("b") } }], gate),
    }),
  );
  const received = await next();
  // The generator is still held at its second event: the response came on the first alone.
  assert.equal(received.parts.length, 1);
  release();
  await received.done;
  assert.equal(received.parts.length, 2);
  received.stream.end();
  for await (const _ of output.Body) assert.fail("no events expected");
});

test("operation errors are thrown from send() as AWS's client names them", async (t) => {
  const cases: [AwsError, new (...args: never[]) => Error][] = [
    [new AwsError("InputValidationError", 400, "Endpoint x not found"), InputValidationError],
    [new AwsError("ModelError", 424, "refused", { fields: { OriginalStatusCode: 503, OriginalMessage: "busy", LogStreamArn: "arn:x" } }), ModelError],
    [new AwsError("InternalServerError", 500, "bug"), InternalServerError],
    [new AwsError("ServiceUnavailableError", 503, "no capacity"), ServiceUnavailableError],
    [new AwsError("InvalidSignatureException", 403, "bad sig"), SageMakerRuntimeHTTP2ServiceException],
  ];
  let index = 0;
  const { client } = await startServer(t, (stream) => {
    const response = errorResponse(cases[index++]![0]);
    stream.respond({ ":status": response.status, "x-amzn-requestid": `id-${index}`, ...response.headers });
    stream.end(response.body);
  });
  for (const [i, [source, cls]] of cases.entries()) {
    const attempt = client.send(
      new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }]) }),
    );
    const err = await attempt.then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof cls, `${source.type}: ${String(err)}`);
    assert.ok(err instanceof SageMakerRuntimeHTTP2ServiceException);
    assert.equal(err.name, source.type);
    assert.equal(err.message, source.message);
    assert.equal(err.$metadata.httpStatusCode, source.status);
    assert.equal(err.$metadata.requestId, `id-${i + 1}`);
    assert.equal(err.$fault, source.status >= 500 ? "server" : "client");
    assert.equal((err as unknown as { Message: string }).Message, source.message);
    if (err instanceof ModelError) {
      assert.deepEqual([err.OriginalStatusCode, err.OriginalMessage, err.LogStreamArn], [503, "busy", "arn:x"]);
    }
  }
});

test("InternalStreamFailure mid-stream is thrown from the iterator after the events before it", async (t) => {
  const { client } = await startServer(t, (stream) => {
    respond200(stream);
    stream.end(encodeStreamError({ kind: "InternalStreamFailure", Message: "InvalidSignature" }));
  });
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }]) }),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of output.Body) assert.fail("no events expected");
    })(),
    (err: unknown) => err instanceof InternalStreamFailure && err.Message === "InvalidSignature" && err.$fault === "server",
  );
});

test("breaking out of the response loop cancels the stream", async (t) => {
  const { client, next } = await startServer(t, (stream) => {
    respond200(stream);
    stream.write(responseBody().subarray(0, 123));
  });
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }], new Promise(() => {})) }),
  );
  for await (const event of output.Body) {
    assert.deepEqual(event, { PayloadPart: { Bytes: utf8("hi"), DataType: "UTF8" } });
    break;
  }
  const received = await next();
  assert.equal(await received.closed, http2.constants.NGHTTP2_CANCEL);
});

test("aborting before the response rejects send() with AbortError and cancels the stream", async (t) => {
  const { client, next } = await startServer(t, () => undefined);
  const controller = new AbortController();
  const attempt = client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }]) }),
    { abortSignal: controller.signal },
  );
  const received = await next();
  controller.abort();
  await assert.rejects(attempt, AbortError);
  assert.equal(await received.closed, http2.constants.NGHTTP2_CANCEL);
});

test("aborting after the response makes the iterator throw AbortError and cancels the stream", async (t) => {
  const { client, next } = await startServer(t, (stream) => {
    respond200(stream);
    stream.write(responseBody().subarray(0, 123));
  });
  const controller = new AbortController();
  const output = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }], new Promise(() => {})) }),
    { abortSignal: controller.signal },
  );
  const iterator = output.Body[Symbol.asyncIterator]();
  assert.deepEqual((await iterator.next()).value, { PayloadPart: { Bytes: utf8("hi"), DataType: "UTF8" } });
  const pending = iterator.next();
  controller.abort();
  await assert.rejects(pending, AbortError);
  assert.equal(await (await next()).closed, http2.constants.NGHTTP2_CANCEL);
});

test("an error from the caller's events cancels the stream and reaches the caller", async (t) => {
  const { client, next } = await startServer(t, (stream) => respond200(stream));
  const boom = new Error("microphone unplugged");
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* failing(): AsyncGenerator<RequestStreamEvent> {
    yield { PayloadPart: { Bytes: utf8("x") } };
    await gate;
    throw boom;
  }
  const output = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: failing() }));
  const received = await next();
  release();
  assert.equal(await received.closed, http2.constants.NGHTTP2_CANCEL);
  await assert.rejects(
    (async () => {
      for await (const _ of output.Body) assert.fail("no events expected");
    })(),
    (err: unknown) => err === boom,
  );
});

test("sending respects backpressure: the caller's events are pulled only as the server reads", async (t) => {
  const eventBytes = 256 * 1024;
  const count = 48;
  let maxAhead = 0;
  const { client, next } = await startServer(
    t,
    (stream, received) => {
      respond200(stream);
      received.done.then(() => stream.end());
    },
    { slowRead: true },
  );
  let pulled = 0;
  let receivedRef: Received | undefined;
  void next().then((r) => (receivedRef = r));
  async function* big(): AsyncGenerator<RequestStreamEvent> {
    for (let i = 0; i < count; i++) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - (receivedRef?.parts.length ?? 0));
      yield { PayloadPart: { Bytes: new Uint8Array(eventBytes) } };
    }
  }
  const output = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: big() }));
  const received = await next();
  await received.done;
  for await (const _ of output.Body) assert.fail("no events expected");
  assert.equal(received.parts.length, count);
  // Without backpressure all 48 events (12 MiB) would be pulled at once; with it only what the
  // HTTP/2 windows and the stream's buffer hold is ever ahead of the server.
  assert.ok(maxAhead <= 8, `caller was ${maxAhead} events ahead of the server`);
});

test("concurrent streams share one HTTP/2 session", async (t) => {
  const { client, next } = await startServer(t, (stream, received) => {
    respond200(stream);
    received.done.then(() => stream.end());
  });
  const send = () =>
    client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: events([{ PayloadPart: { Bytes: utf8("x") } }]) }));
  const outputs = await Promise.all([send(), send(), send()]);
  const received = await Promise.all([next(), next(), next()]);
  assert.equal(new Set(received.map((r) => r.stream.session)).size, 1);
  for (const output of outputs) for await (const _ of output.Body) assert.fail("no events expected");
});

test("missing EndpointName or Body is refused before anything is sent", async () => {
  const client = new SageMakerRuntimeHTTP2Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials });
  await assert.rejects(client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "", Body: events([]) })), /EndpointName/);
  await assert.rejects(client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: undefined })), /Body/);
  client.destroy();
});
