// The opening handshake against real servers: every failure before the WebSocket is open is a
// DialError, and the runtime's output is never touched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { DialError, openSession } from "./index.js";
import { RecordingOutput, startContainer, within } from "./fake-container.fixture.js";
import { containerUrl } from "./options.js";

async function listen(server: import("node:net").Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function dialError(promise: Promise<unknown>): Promise<DialError> {
  const err = await within(promise.then(() => assert.fail("expected a DialError"), (e: unknown) => e), "the dial to fail");
  assert.ok(err instanceof DialError, `expected a DialError, got ${String(err)}`);
  return err;
}

test("opens on the given path with the query string verbatim, deflate off", async (t) => {
  const container = await startContainer();
  t.after(() => container.close());
  const output = new RecordingOutput();
  const url = containerUrl(`ws://127.0.0.1:${container.port}`, "v1/listen", "model=nova-3&keyterm=a%20b");
  const session = await openSession({ url }, output);
  const conn = await container.nextConnection();
  assert.equal(conn.request.url, "/v1/listen?model=nova-3&keyterm=a%20b");
  assert.equal(conn.request.headers["sec-websocket-extensions"], undefined);
  session.cancel();
  await within(session.closed, "session closed");
});

test("containerUrl defaults the path and drops an empty query", () => {
  assert.equal(containerUrl("ws://127.0.0.1:8080"), "ws://127.0.0.1:8080/invocations-bidirectional-stream");
  assert.equal(containerUrl("ws://127.0.0.1:8080/ignored?x=1", undefined, ""), "ws://127.0.0.1:8080/invocations-bidirectional-stream");
});

test("a refused upgrade is a DialError with the container's status and body", async (t) => {
  const http = createHttpServer();
  http.on("upgrade", (_req, socket: Socket) => {
    socket.end("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nmodel loading");
  });
  const port = await listen(http);
  t.after(() => new Promise((r) => http.close(r)));
  const output = new RecordingOutput();
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/invocations-bidirectional-stream` }, output));
  assert.equal(err.kind, "refused");
  assert.equal(err.status, 503);
  assert.equal(err.body, "model loading");
  assert.match(err.message, /HTTP 503 Service Unavailable: model loading/);
  assert.equal(output.parts.length + output.endCalls, 0);
});

test("a refusal's body is cut at maxErrorBodyBytes and the dial does not wait for the rest", async (t) => {
  const http = createHttpServer();
  const sockets: Socket[] = [];
  http.on("upgrade", (_req, socket: Socket) => {
    sockets.push(socket);
    // Declares far more than it sends, and never ends: only the byte cap can finish the read.
    socket.write("HTTP/1.1 404 Not Found\r\nContent-Length: 1000000\r\n\r\n" + "x".repeat(100));
  });
  const port = await listen(http);
  t.after(() => {
    // Upgraded sockets are no longer the server's to close.
    for (const s of sockets) s.destroy();
    return new Promise((r) => http.close(r));
  });
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/p`, maxErrorBodyBytes: 64, handshakeTimeoutMs: 60_000 }, new RecordingOutput()));
  assert.equal(err.kind, "refused");
  assert.equal(err.status, 404);
  assert.equal(err.body, "x".repeat(64));
});

test("a container that never answers the upgrade is a timeout", async (t) => {
  const sockets: Socket[] = [];
  const tcp = createTcpServer((s) => sockets.push(s)); // accepts, reads nothing, says nothing
  const port = await listen(tcp);
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => tcp.close(r));
  });
  const output = new RecordingOutput();
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/p`, handshakeTimeoutMs: 50 }, output));
  assert.equal(err.kind, "timeout");
  assert.match(err.message, /within 50 ms/);
  assert.equal(output.parts.length + output.endCalls, 0);
});

test("nothing listening is unreachable", async () => {
  const tcp = createTcpServer();
  const port = await listen(tcp);
  await new Promise((r) => tcp.close(r));
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/p` }, new RecordingOutput()));
  assert.equal(err.kind, "unreachable");
  assert.match(err.message, /ECONNREFUSED/);
});

test("a connection reset during the upgrade is unreachable", async (t) => {
  const tcp = createTcpServer((s) => s.once("data", () => s.resetAndDestroy()));
  const port = await listen(tcp);
  t.after(() => new Promise((r) => tcp.close(r)));
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/p` }, new RecordingOutput()));
  assert.equal(err.kind, "unreachable");
});

test("an abort signal stops a dial in progress", async (t) => {
  const sockets: Socket[] = [];
  const tcp = createTcpServer((s) => {
    sockets.push(s);
    controller.abort();
  });
  const port = await listen(tcp);
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => tcp.close(r));
  });
  const controller = new AbortController();
  const err = await dialError(openSession({ url: `ws://127.0.0.1:${port}/p`, signal: controller.signal, handshakeTimeoutMs: 60_000 }, new RecordingOutput()));
  assert.equal(err.kind, "aborted");
});

test("bad options reject before dialling", async () => {
  await assert.rejects(openSession({ url: "http://127.0.0.1:1/p" }, new RecordingOutput()), TypeError);
  await assert.rejects(openSession({ url: "ws://127.0.0.1:1/p", pingIntervalMs: 0 }, new RecordingOutput()), RangeError);
});
