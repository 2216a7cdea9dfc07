// Conformance with AWS's own client (issue 3): the three request bodies that
// @aws-sdk/client-sagemaker-runtime-http2 sent (test/fixtures/real-client), replayed byte for
// byte over h2c with their captured headers, and with the client's GOAWAY(NO_ERROR, last stream
// 0) right after the request headers, to a Sluice with signature checking off and an endpoint
// named echo-endpoint. Each is accepted (200) and answered by the echo model.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as http2 from "node:http2";
import { after, before, test } from "node:test";
import { MessageReader } from "../src/protocol/message-reader.js";
import { decodeResponseMessage, type ResponseMessage } from "../src/protocol/response-event.js";
import { requestBody, requestHeaders, run2Payload, type RunName } from "./fixtures/real-client/index.js";
import { partOf } from "./helpers/bidi.js";
import { controlClient, deployEndpoint } from "./helpers/deploy.js";
import { startSluice, type SluiceProcess } from "./helpers/sluice.js";

let sluice: SluiceProcess;

before(async () => {
  sluice = await startSluice({ args: ["--auth", "none"], withTestKey: false });
  const sm = controlClient(sluice.url, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "unused" });
  await deployEndpoint(sm, { name: "echo-endpoint", image: "sluice/echo" });
  sm.destroy();
});

after(async () => {
  await sluice?.cleanup();
});

interface Replayed {
  status: number;
  headers: http2.IncomingHttpHeaders;
  messages: ResponseMessage[];
  ended: boolean;
}

/** Sends run `run` as AWS's client did: headers in wire order, GOAWAY(0, 0), the body, END_STREAM. */
async function replay(run: RunName): Promise<Replayed> {
  const session = http2.connect(sluice.url);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    const headers: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of requestHeaders(run).rawHeaderOrder) headers[name] = value;
    const stream = session.request(headers, { endStream: false });
    stream.on("error", () => {});
    // Right after the request headers went out, before any body or response: the client's
    // GOAWAY. (Queued before the HEADERS frame left, nghttp2 would refuse to open the stream.)
    await headersFlushed(session);
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, 0);
    const response = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once("response", resolve);
      stream.once("close", () => reject(new Error(`stream closed before a response (rst ${stream.rstCode})`)));
    });
    const body = requestBody(run);
    // The capture's body, cut where HTTP/2 might cut it: the server must not care.
    for (let at = 0; at < body.length; at += 16_384) stream.write(body.subarray(at, at + 16_384));
    stream.end();
    const responseHeaders = await response;
    const reader = new MessageReader();
    const messages: ResponseMessage[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (const bytes of reader.push(chunk)) messages.push(decodeResponseMessage(bytes));
    }
    reader.end();
    return { status: Number(responseHeaders[":status"]), headers: responseHeaders, messages, ended: stream.readableEnded };
  } finally {
    session.destroy();
  }
}

/** Resolves once nghttp2's outbound queue is empty (the request's HEADERS frame was written). */
async function headersFlushed(session: http2.ClientHttp2Session): Promise<void> {
  for (let turns = 0; turns < 10_000; turns++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (session.state.outboundQueueSize === 0) return;
  }
  throw new Error("the request headers never left the session");
}

function summary(m: ResponseMessage): { DataType?: string; hex: string } {
  const part = partOf(m);
  return { DataType: part.DataType, hex: Buffer.from(part.Bytes).toString("hex") };
}

const THREE_ECHOES = [
  { DataType: "UTF8", hex: Buffer.from("hello").toString("hex") },
  { DataType: "BINARY", hex: "00010203" },
  { DataType: "UTF8", hex: Buffer.from('{"type":"CloseStream"}').toString("hex") },
];

for (const run of ["run1-three-events", "run3-response-events"] as const) {
  test(`${run}: accepted after the client's GOAWAY, and the echo answers each of its three events`, async () => {
    const r = await replay(run);
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-amzn-invoked-production-variant"], "AllTraffic");
    assert.equal(r.headers["content-type"], "application/vnd.amazon.eventstream");
    assert.deepEqual(r.messages.map(summary), THREE_ECHOES);
    assert.equal(r.ended, true);
  });
}

test("run2-600k-binary: the 600 KiB payload comes back whole, with the same SHA-256", async () => {
  const r = await replay("run2-600k-binary");
  assert.equal(r.status, 200);
  assert.equal(r.messages.length, 1);
  const part = partOf(r.messages[0]);
  assert.equal(part.DataType, "BINARY");
  assert.equal(part.Bytes.byteLength, 614_400);
  const digest = createHash("sha256").update(part.Bytes).digest("hex");
  assert.equal(digest, "7db7de02805282d3332a52410cd586f9a7be3bf46702b8be91b8779b8593a477");
  assert.equal(digest, createHash("sha256").update(run2Payload()).digest("hex"));
  // No CloseStream in this run: the session ends cleanly after the close grace.
  assert.equal(r.ended, true);
});
