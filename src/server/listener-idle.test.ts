// The idle-connection timer of the HTTP/2 listener (--connection-idle-timeout).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { listen } from "./listener.js";

function gc(): void {
  v8.setFlagsFromString("--expose_gc");
  (vm.runInNewContext("gc") as () => void)();
}

async function get(session: http2.ClientHttp2Session, path = "/"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":path": path });
    req.on("response", (h) => resolve(Number(h[":status"])));
    req.on("error", reject);
    req.resume();
    req.end();
  });
}

test("a connection that has had no open stream for the idle timeout is closed by the server", { timeout: 30_000 }, async () => {
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    http2: { maxConcurrentStreams: 100, maxHeaderListSize: 65536 },
    connectionIdleTimeoutMs: 200,
    onRequest: (_req, res) => res.end("ok"),
  });
  try {
    const client = http2.connect(listener.url);
    client.on("error", () => {});
    assert.equal(await get(client), 200);
    await new Promise<void>((resolve) => client.once("close", () => resolve()));
    assert.equal(listener.connectionCount(), 0);
  } finally {
    await listener.close();
  }
});

// Found by the fuzz test's heap check (fuzz-hostile.test.ts): the first version used
// session.setTimeout(), whose timer Node does not clear when the session closes, so every closed
// connection's session stayed reachable until its (3-minute) timer fired.
test("regression: closed connections are not kept alive by the idle timer", { timeout: 30_000 }, async () => {
  const refs: WeakRef<http2.ServerHttp2Session>[] = [];
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    http2: { maxConcurrentStreams: 100, maxHeaderListSize: 65536 },
    connectionIdleTimeoutMs: 10 * 60_000,
    onRequest: (_req, res) => res.end("ok"),
    onSession: (session) => refs.push(new WeakRef(session)),
  });
  try {
    for (let i = 0; i < 20; i++) {
      const client = http2.connect(listener.url);
      client.on("error", () => {});
      assert.equal(await get(client), 200);
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
    const deadline = Date.now() + 20_000;
    while (listener.connectionCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(listener.connectionCount(), 0);
    // Let the sessions' close callbacks run, then collect.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(refs.length, 20);
    assert.equal(alive, 0, `${alive} of 20 closed sessions are still in memory`);
  } finally {
    await listener.close();
  }
});
