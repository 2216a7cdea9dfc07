import assert from "node:assert/strict";
import { request, type IncomingMessage } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { AwsError } from "../protocol/aws-error.js";
import type { Instance, InstanceExit, InstanceSpec } from "./host.js";
import { freePort } from "./free-port.js";
import { ProcessHost } from "./process.js";
import { isAlive } from "./process-start-time.js";

/** Caps against hangs only; nothing here asserts how long anything took. */
const HANG_CAP_MS = 20_000;

// A local model whose behaviour the test picks through MODE, written as a real model directory.
const MODEL_SCRIPT = `
import http from "node:http";
import { spawn } from "node:child_process";
const mode = process.env.MODE ?? "";
if (mode.includes("exit-early")) { console.error("fatal: could not load weights"); process.exit(7); }
if (mode.includes("ignore-term")) process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
let grandchild;
if (mode.includes("grandchild")) {
  // Same process group as this one; it ignores SIGTERM so only the group's SIGKILL ends it.
  grandchild = spawn(process.execPath,
    ["-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1e9)"],
    { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => grandchild.stdout.once("data", resolve));
}
const server = http.createServer((req, res) => {
  if (req.url === "/env") {
    res.end(JSON.stringify({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(2), grandchild: grandchild?.pid }));
  } else if (req.url === "/crash") {
    res.end(() => process.exit(3));
  } else {
    res.end("ok");
  }
});
server.listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), process.env.SLUICE_BIND_HOST, () => console.log("listening"));
`;

let work: string;
let modelDir: string;
const started: Instance[] = [];
const strays: number[] = [];

function spec(image: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  const instanceId = `test-${Math.random().toString(16).slice(2, 8)}`;
  return {
    instanceId,
    endpointName: "ep",
    variantName: "AllTraffic",
    image,
    environment: {},
    logFile: join(work, "logs", "ep", `${instanceId}.log`),
    ...overrides,
  };
}

async function startTracked(host: ProcessHost, s: InstanceSpec): Promise<Instance> {
  const instance = await host.start(s);
  started.push(instance);
  return instance;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    sleep(HANG_CAP_MS, undefined, { ref: false }).then(() => {
      throw new Error(`gave up waiting for ${what}`);
    }),
  ]);
}

async function waitGone(pid: number): Promise<void> {
  await within(
    (async () => {
      while (isAlive(pid)) await sleep(20);
    })(),
    `pid ${pid} to go`,
  );
}

async function getJson(instance: Instance, path: string): Promise<any> {
  const res = await fetch(`http://${instance.host}:${instance.port}${path}`);
  assert.equal(res.status, 200);
  return res.json();
}

function openSocket(instance: Instance, path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${instance.host}:${instance.port}${path}`, { perMessageDeflate: false });
  return within(
    new Promise((resolve, reject) => {
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
    }),
    "the WebSocket to open",
  );
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return within(
    new Promise((resolve) => ws.once("message", (data, isBinary) => resolve({ data: data as Buffer, isBinary }))),
    "a message",
  );
}

before(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "sluice-process-host-")));
  modelDir = join(work, "model");
  await mkdir(modelDir);
  await writeFile(join(modelDir, "server.mjs"), MODEL_SCRIPT);
  await writeFile(
    join(modelDir, "sluice-model.json"),
    JSON.stringify({
      command: ["node", "server.mjs"],
      env: { FROM_MANIFEST: "manifest", OVERRIDDEN: "manifest", SAGEMAKER_BIND_TO_PORT: "1" },
      labels: { team: "tests" },
    }),
  );
});

after(async () => {
  for (const instance of started) instance.kill();
  await Promise.all(started.map((i) => i.exited));
  for (const pid of strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  }
  await rm(work, { recursive: true, force: true });
});

describe("ProcessHost with the echo model", () => {
  it("serves /ping, echoes text and binary, reports info and closes 1000 on CloseStream", async () => {
    const host = new ProcessHost();
    const s = spec("sluice/echo");
    const instance = await startTracked(host, s);
    assert.equal(instance.host, "127.0.0.1");
    assert.equal(typeof instance.pid, "number");
    assert.equal(typeof instance.startTimeMs, "number");

    assert.equal((await fetch(`http://127.0.0.1:${instance.port}/ping`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${instance.port}/ping`, { method: "POST" })).status, 200);

    const ws = await openSocket(instance, "/v1/listen?model=nova-3&language=en");
    ws.send("hello");
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), "hello");

    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    ws.send(bytes);
    const binary = await nextMessage(ws);
    assert.equal(binary.isBinary, true);
    assert.deepEqual(binary.data, bytes);

    ws.send(JSON.stringify({ type: "sluice.echo.info" }));
    const info = await nextMessage(ws);
    assert.equal(info.isBinary, false);
    assert.deepEqual(JSON.parse(info.data.toString()), {
      instanceId: s.instanceId,
      pid: instance.pid,
      path: "/v1/listen",
      query: "model=nova-3&language=en",
    });

    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const closeStream = JSON.stringify({ type: "CloseStream" });
    ws.send(closeStream);
    const echoed = await nextMessage(ws);
    assert.equal(echoed.data.toString(), closeStream);
    assert.equal(await within(closed, "the close"), 1000);

    // The default path is accepted like any other.
    const other = await openSocket(instance, "/invocations-bidirectional-stream");
    other.close();

    const exit = await within(instance.stop(HANG_CAP_MS), "stop");
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(await instance.exited, exit);

    const log = await readFile(s.logFile, "utf8");
    assert.match(log, /starting instance .* serve/);
    assert.match(log, /model server listening/);
    assert.match(log, /exited with code 0/);
  });

  it("streams POST /invocations back chunk by chunk with the content type", async () => {
    const instance = await startTracked(new ProcessHost(), spec("sluice/echo"));
    const received: string[] = [];
    const req = request({
      host: instance.host,
      port: instance.port,
      method: "POST",
      path: "/invocations",
      headers: { "content-type": "application/x-test", "transfer-encoding": "chunked" },
    });
    const response = within(
      new Promise<IncomingMessage>((resolve, reject) => {
        req.once("response", resolve);
        req.once("error", reject);
      }),
      "the response",
    );
    req.write("first;");
    const res = await response;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "application/x-test");
    const chunks = res[Symbol.asyncIterator]();
    // The first chunk comes back while the request is still open: it is streamed, not buffered.
    received.push(String((await within(chunks.next(), "the first chunk")).value));
    assert.equal(received.join(""), "first;");
    req.end("second");
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) received.push(String(next.value));
    assert.equal(received.join(""), "first;second");
    await instance.stop(HANG_CAP_MS);
  });
});

describe("ProcessHost lifecycle", () => {
  it("gives a local model its manifest env, Environment, port, model dir and instance id in that precedence", async () => {
    const secretName = "SLUICE_TEST_SECRET_NOT_INHERITED";
    process.env[secretName] = "do-not-leak";
    try {
      const s = spec(modelDir, {
        environment: { OVERRIDDEN: "environment", SM_MODEL_DIR: "/ignored", SAGEMAKER_BIND_TO_PORT: "2" },
        modelDataPath: join(work, "model-data"),
      });
      await mkdir(join(work, "model-data"));
      const instance = await startTracked(new ProcessHost(), s);
      const seen = await getJson(instance, "/env");
      assert.equal(seen.env.FROM_MANIFEST, "manifest");
      assert.equal(seen.env.OVERRIDDEN, "environment");
      assert.equal(seen.env.SAGEMAKER_BIND_TO_PORT, String(instance.port));
      assert.equal(seen.env.SM_MODEL_DIR, join(work, "model-data"));
      assert.equal(seen.env.SLUICE_INSTANCE_ID, s.instanceId);
      assert.equal(seen.env[secretName], undefined);
      assert.equal(seen.env.PATH, process.env.PATH);
      assert.equal(seen.cwd, modelDir);
      assert.deepEqual(seen.argv, ["serve"]);
      await instance.stop(HANG_CAP_MS);
    } finally {
      delete process.env[secretName];
    }
  });

  it("stop() sends SIGKILL after the grace when SIGTERM is ignored", async () => {
    const instance = await startTracked(new ProcessHost(), spec(modelDir, { environment: { MODE: "ignore-term" } }));
    const exit = await within(instance.stop(200), "stop");
    assert.deepEqual(exit, { code: null, signal: "SIGKILL" });
    assert.deepEqual(await instance.exited, exit);
    assert.equal(isAlive(instance.pid as number), false);
  });

  it("kill() ends the whole process group at once, grandchildren included", async () => {
    const instance = await startTracked(new ProcessHost(), spec(modelDir, { environment: { MODE: "grandchild" } }));
    const { grandchild } = await getJson(instance, "/env");
    strays.push(grandchild);
    assert.equal(isAlive(grandchild), true);
    instance.kill();
    assert.deepEqual(await within(instance.exited, "the exit"), { code: null, signal: "SIGKILL" });
    await waitGone(grandchild);
  });

  it("stop() leaves no straggler when the leader exits on SIGTERM but its child ignores it", async () => {
    const instance = await startTracked(new ProcessHost(), spec(modelDir, { environment: { MODE: "grandchild" } }));
    const { grandchild } = await getJson(instance, "/env");
    strays.push(grandchild);
    const exit = await within(instance.stop(HANG_CAP_MS), "stop");
    assert.deepEqual(exit, { code: null, signal: "SIGTERM" });
    await waitGone(grandchild);
  });

  it("settles exited once when the instance crashes on its own", async () => {
    const instance = await startTracked(new ProcessHost(), spec(modelDir));
    await fetch(`http://127.0.0.1:${instance.port}/crash`).catch(() => undefined);
    const exit: InstanceExit = await within(instance.exited, "the crash");
    assert.deepEqual(exit, { code: 3, signal: null });
    // Stopping or killing a gone instance is harmless and reports the same exit.
    instance.kill();
    assert.deepEqual(await instance.stop(10), exit);
  });

  it("returns an instance that failed before listening with its exit, without retrying", async () => {
    const s = spec(modelDir, { environment: { MODE: "exit-early" } });
    const instance = await startTracked(new ProcessHost(), s);
    assert.deepEqual(await within(instance.exited, "the exit"), { code: 7, signal: null });
    const log = await readFile(s.logFile, "utf8");
    assert.match(log, /fatal: could not load weights/);
    assert.equal(log.match(/starting instance/g)?.length, 1);
  });

  it("retries on a new port when the chosen one was taken meanwhile", async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as AddressInfo).port;
    const offered: number[] = [];
    const host = new ProcessHost({
      choosePort: async () => {
        const port = offered.length === 0 ? taken : await freePort();
        offered.push(port);
        return port;
      },
    });
    try {
      const s = spec("sluice/echo");
      const instance = await startTracked(host, s);
      assert.equal(offered[0], taken);
      assert.notEqual(instance.port, taken);
      assert.equal(instance.port, offered[offered.length - 1]);
      assert.equal((await fetch(`http://127.0.0.1:${instance.port}/ping`)).status, 200);
      const log = await readFile(s.logFile, "utf8");
      assert.match(log, /EADDRINUSE/);
      assert.equal(log.match(/starting instance/g)?.length, 2);
      await instance.stop(HANG_CAP_MS);
    } finally {
      squatter.close();
    }
  });

  it("runs a non-node model found on PATH, and retries when it reports the port taken its own way", async (t) => {
    if (!process.env.PATH?.split(":").some((dir) => existsSync(join(dir, "python3")))) {
      t.skip("no python3 on PATH");
      return;
    }
    const dir = join(work, "python-model");
    await mkdir(dir);
    await writeFile(
      join(dir, "app.py"),
      [
        "import os, sys, http.server",
        "class Ping(http.server.BaseHTTPRequestHandler):",
        "    def do_GET(self):",
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'pong')",
        "assert sys.argv[1:] == ['serve'], sys.argv",
        "port = int(os.environ['SAGEMAKER_BIND_TO_PORT'])",
        "server = http.server.HTTPServer((os.environ['SLUICE_BIND_HOST'], port), Ping)",
        "print('python model listening on', port)",
        "server.serve_forever()",
      ].join("\n"),
    );
    await writeFile(join(dir, "sluice-model.json"), JSON.stringify({ command: ["python3", "app.py"] }));
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as AddressInfo).port;
    let offers = 0;
    const host = new ProcessHost({ choosePort: async () => (offers++ === 0 ? taken : freePort()) });
    try {
      const s = spec(pathToFileURL(dir).href);
      const instance = await startTracked(host, s);
      assert.notEqual(instance.port, taken);
      assert.equal((await fetch(`http://127.0.0.1:${instance.port}/ping`)).status, 200);
      const log = await readFile(s.logFile, "utf8");
      assert.match(log, /Address already in use/); // Python's wording, not Node's EADDRINUSE
      assert.match(log, new RegExp(`python model listening on ${instance.port}`)); // unbuffered
      await instance.stop(HANG_CAP_MS);
    } finally {
      squatter.close();
    }
  });

  it("refuses model data that does not exist", async () => {
    await assert.rejects(
      new ProcessHost().start(spec("sluice/echo", { modelDataPath: join(work, "no-such-data") })),
      (err: unknown) => err instanceof AwsError && /Model data .*no-such-data does not exist/.test(err.message),
    );
  });

  it("refuses to start a program that does not exist, saying so in the log too", async () => {
    const dir = join(work, "missing-program");
    await mkdir(dir);
    await writeFile(join(dir, "sluice-model.json"), JSON.stringify({ command: ["sluice-no-such-program"] }));
    const s = spec(dir);
    await assert.rejects(new ProcessHost().start(s), (err: unknown) => {
      assert.ok(err instanceof AwsError);
      assert.equal(err.type, "ValidationException");
      assert.match(err.message, /sluice-no-such-program.*ENOENT/);
      return true;
    });
    assert.match(await readFile(s.logFile, "utf8"), /could not start sluice-no-such-program/);
  });
});

describe("ProcessHost.reapLeftovers", () => {
  it("kills a recorded process whose start time matches, and spares one whose does not", async () => {
    const previousRun = new ProcessHost();
    const ours = await startTracked(previousRun, spec("sluice/echo"));
    const recycled = await startTracked(previousRun, spec("sluice/echo"));
    const gone = await startTracked(previousRun, spec("sluice/echo"));
    gone.kill();
    await gone.exited;

    await new ProcessHost().reapLeftovers([
      { instanceId: ours.instanceId, pid: ours.pid, startTimeMs: ours.startTimeMs },
      // Same pid, but the record says it started an hour earlier: a recycled pid, not ours.
      { instanceId: recycled.instanceId, pid: recycled.pid, startTimeMs: (recycled.startTimeMs as number) - 3_600_000 },
      // Without a start time nothing can be proven, so nothing is killed.
      { instanceId: "no-start-time", pid: recycled.pid },
      { instanceId: gone.instanceId, pid: gone.pid, startTimeMs: gone.startTimeMs },
      { instanceId: "container", containerId: "abc" },
    ]);

    assert.deepEqual(await within(ours.exited, "the reaped exit"), { code: null, signal: "SIGKILL" });
    assert.equal(isAlive(recycled.pid as number), true);
    assert.equal((await fetch(`http://127.0.0.1:${recycled.port}/ping`)).status, 200);
    await recycled.stop(HANG_CAP_MS);
  });
  it("kills the leftover's whole process group", async () => {
    const leftover = await startTracked(new ProcessHost(), spec(modelDir, { environment: { MODE: "grandchild" } }));
    const { grandchild } = await getJson(leftover, "/env");
    strays.push(grandchild);
    await new ProcessHost().reapLeftovers([
      { instanceId: leftover.instanceId, pid: leftover.pid, startTimeMs: leftover.startTimeMs },
    ]);
    assert.deepEqual(await within(leftover.exited, "the reaped exit"), { code: null, signal: "SIGKILL" });
    await waitGone(grandchild);
  });
});

describe("ProcessHost images", () => {
  it("handles sluice/* and local model directories, not container images", async () => {
    const host = new ProcessHost();
    assert.equal(host.handles("sluice/echo"), true);
    assert.equal(host.handles("sluice/unknown"), true); // ours to refuse, with a clear message
    assert.equal(host.handles(modelDir), true);
    assert.equal(host.handles(`file://${modelDir}`), true);
    assert.equal(host.handles("nginx:latest"), false);
    assert.equal(host.handles("file:latest"), false);
    assert.equal(host.handles("123456789012.dkr.ecr.us-east-1.amazonaws.com/model@sha256:abc"), false);
    assert.deepEqual(await host.inspect(`file://${modelDir}`), { labels: { team: "tests" }, resolvedImage: modelDir });
    await assert.rejects(host.start(spec("sluice/unknown")), /reserved/);
  });
});
