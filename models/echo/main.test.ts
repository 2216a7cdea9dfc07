// The echo program on its own, started as Sluice starts it (`node dist/models/echo/main.js serve`).
// Port 0 lets the kernel pick; the program prints the port it bound as its first line.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import WebSocket from "ws";

const HANG_CAP_MS = 20_000;
const program = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "models", "echo", "main.js");
const children: ChildProcess[] = [];

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    sleep(HANG_CAP_MS, undefined, { ref: false }).then(() => {
      throw new Error(`gave up waiting for ${what}`);
    }),
  ]);
}

async function startEcho(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [program, "serve"], {
    env: { SAGEMAKER_BIND_TO_PORT: "0", SLUICE_BIND_HOST: "127.0.0.1", SLUICE_INSTANCE_ID: "solo" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await within(once(lines, "line"), "the listening line")) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return { child, port };
}

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

describe("echo model", () => {
  it("refuses arguments other than serve", async () => {
    const child = spawn(process.execPath, [program, "train"], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const [code] = await within(once(child, "exit"), "the exit");
    assert.equal(code, 2);
    assert.match(stderr, /usage: .* \[serve\]/);
  });

  it("echoes a large binary message intact", async () => {
    const { child, port } = await startEcho();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/invocations-bidirectional-stream`, { perMessageDeflate: false });
    await within(once(ws, "open"), "open");
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    ws.send(big);
    const [data, isBinary] = (await within(once(ws, "message"), "the echo")) as [Buffer, boolean];
    assert.equal(isBinary, true);
    assert.ok(big.equals(data));
    ws.terminate();
    child.kill("SIGKILL");
  });

  it("on SIGTERM closes open WebSockets with 1001 and exits 0", async () => {
    const { child, port } = await startEcho();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    await within(once(ws, "open"), "open");
    const closed = within(once(ws, "close"), "the close");
    const exited = within(once(child, "exit"), "the exit");
    child.kill("SIGTERM");
    const [code] = (await closed) as [number];
    assert.equal(code, 1001);
    assert.deepEqual(await exited, [0, null]);
  });
});
