import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { startModelServer, type ModelServer, type WebSocketRequest } from "./model-server.js";

const HANG_CAP_MS = 20_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    sleep(HANG_CAP_MS, undefined, { ref: false }).then(() => {
      throw new Error(`gave up waiting for ${what}`);
    }),
  ]);
}

function dial(server: ModelServer, path: string): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { perMessageDeflate: false });
}

function opened(ws: WebSocket): Promise<void> {
  return within(
    new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    }),
    "open",
  );
}

describe("startModelServer", () => {
  it("answers /ping by GET and POST, 404 elsewhere, and reports an unhealthy ping as 503", async () => {
    let healthy = true;
    const server = await startModelServer({ host: "127.0.0.1", port: 0, ping: () => healthy });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${base}/ping`)).status, 200);
      assert.equal((await fetch(`${base}/ping?x=1`, { method: "POST" })).status, 200);
      assert.equal((await fetch(`${base}/invocations`, { method: "POST", body: "x" })).status, 404);
      assert.equal((await fetch(`${base}/other`)).status, 404);
      healthy = false;
      assert.equal((await fetch(`${base}/ping`)).status, 503);
    } finally {
      await server.close();
    }
  });

  it("answers 500 when the invocations handler fails before responding", async () => {
    const server = await startModelServer({
      host: "127.0.0.1",
      port: 0,
      invocations: async () => {
        throw new Error("boom");
      },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/invocations`, { method: "POST", body: "x" });
      assert.equal(res.status, 500);
    } finally {
      await server.close();
    }
  });

  it("accepts WebSockets on every path with path and query, without compression, and answers pings", async () => {
    const seen: WebSocketRequest[] = [];
    const server = await startModelServer({ host: "127.0.0.1", port: 0, webSocket: (_ws, req) => seen.push(req) });
    try {
      const ws = dial(server, "/v1/listen?model=nova-3&a=b?c");
      await opened(ws);
      assert.equal(ws.extensions, "");
      const pong = within(new Promise<Buffer>((resolve) => ws.once("pong", resolve)), "pong");
      ws.ping("hb");
      assert.equal(String(await pong), "hb");
      const root = dial(server, "/");
      await opened(root);
      assert.equal(seen[0].path, "/v1/listen");
      assert.equal(seen[0].query, "model=nova-3&a=b?c");
      assert.equal(seen[0].params.get("model"), "nova-3");
      assert.equal(seen[1].path, "/");
      assert.equal(seen[1].query, "");
      ws.terminate();
      root.terminate();
    } finally {
      await server.close();
    }
  });

  it("refuses upgrades on paths the author restricts", async () => {
    const server = await startModelServer({
      host: "127.0.0.1",
      port: 0,
      webSocket: () => undefined,
      acceptPath: (path) => path === "/invocations-bidirectional-stream",
    });
    try {
      await opened(dial(server, "/invocations-bidirectional-stream")).then(() => undefined);
      const refused = dial(server, "/elsewhere");
      const status = await within(
        new Promise<number | undefined>((resolve) => {
          refused.once("unexpected-response", (_req, res) => resolve(res.statusCode));
          refused.once("error", () => resolve(undefined));
        }),
        "the refusal",
      );
      assert.equal(status, 404);
    } finally {
      await server.close();
    }
  });

  it("closes open WebSockets with 1001 and stops accepting on close()", async () => {
    const server = await startModelServer({ host: "127.0.0.1", port: 0, webSocket: () => undefined });
    const ws = dial(server, "/invocations-bidirectional-stream");
    await opened(ws);
    const closed = within(new Promise<number>((resolve) => ws.once("close", (code) => resolve(code))), "the close");
    await within(server.close(), "server close");
    assert.equal(await closed, 1001);
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/ping`));
  });
});
