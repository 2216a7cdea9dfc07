// The bring-your-own-container example, built into an image and run by the container host as
// SageMaker would run it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { buildBundledImage, startTestEngine, waitForPing, type TestEngine } from "../../test/podman-harness.js";
import { createDockerHost } from "../../src/hosting/docker.js";
import { isBidiCapable, type Instance } from "../../src/hosting/host.js";

const CAP_MS = Number(process.env.SLUICE_TEST_CAP_MS ?? 60_000);

let engine: TestEngine;
let dir: string;
let instance: Instance;
let image: string;

before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), "sluice-byoc-test-"));
  engine = await startTestEngine();
  image = await buildBundledImage(engine.docker, "byoc-python");
  const host = createDockerHost(engine.socketPath, { owner: `byoc-test-${process.pid}` });
  assert.equal(isBidiCapable(await host.inspect(image)), true);
  instance = await host.start({
    instanceId: `byoc-AllTraffic-${process.pid}`,
    endpointName: "byoc",
    variantName: "AllTraffic",
    image,
    environment: {},
    logFile: join(dir, "byoc.log"),
  });
  await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
});

after(async () => {
  try {
    if (instance) await instance.stop(5_000);
    if (engine) await engine.stop();
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }
});

test("/ping answers GET and POST, /invocations echoes JSON", async () => {
  const base = `http://${instance.host}:${instance.port}`;
  assert.deepEqual(await (await fetch(`${base}/ping`)).json(), { response: "pong" });
  assert.deepEqual(await (await fetch(`${base}/ping`, { method: "POST" })).json(), { response: "pong" });
  const res = await fetch(`${base}/invocations`, { method: "POST", body: JSON.stringify({ inputs: "hi" }), headers: { "content-type": "application/json" } });
  assert.deepEqual(await res.json(), { status: "success", message: "echo", echo: { inputs: "hi" } });
});

test("the WebSocket echoes text as text, binary as binary, fragmented messages whole", async () => {
  const ws = new WebSocket(`ws://${instance.host}:${instance.port}/invocations-bidirectional-stream`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const replies: Array<[string, boolean]> = [];
  const got = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${n} replies within ${CAP_MS} ms`)), CAP_MS);
      const on = (data: Buffer, binary: boolean) => {
        replies.push([binary ? data.toString("hex") : data.toString(), binary]);
        if (replies.length === n) {
          clearTimeout(timer);
          ws.off("message", on);
          resolve();
        }
      };
      ws.on("message", on);
    });
  const all = got(3);
  ws.send("Hello bidirectional streaming");
  ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  ws.send("frag", { fin: false });
  ws.send("mented", { fin: true });
  await all;
  assert.deepEqual(replies, [
    ["Hello bidirectional streaming", false],
    ["deadbeef", true],
    ["fragmented", false],
  ]);
  ws.close(1000);
  await new Promise((r) => ws.once("close", r));
});

test("stop is graceful: the model exits 0 on SIGTERM and its log reached the file", async () => {
  const exit = await instance.stop(CAP_MS);
  assert.deepEqual(exit, { code: 0, signal: null });
  const log = await fs.readFile(instance.logFile, "utf8");
  assert.match(log, /listening on 8080/);
  assert.match(log, /session opened/);
  assert.match(log, /SIGTERM: closing/);
});
