// The transcribe image on a real engine: the speech base (pocketsphinx, sphinxbase, soxr and the
// en-us model, from this machine) must let the containerised model transcribe exactly as the
// process-hosted one does. Runs once the transcribe model is compiled (npm test builds first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import WebSocket from "ws";
import { buildBundledImage, PROJECT_ROOT, startTestEngine, waitForPing, type TestEngine } from "../../test/podman-harness.js";
import { createDockerHost } from "./docker.js";
import { freePort } from "./free-port.js";
import { isBidiCapable } from "./host.js";

const run = promisify(execFile);
const CAP_MS = Number(process.env.SLUICE_TEST_CAP_MS ?? 120_000);
const COMPILED = join(PROJECT_ROOT, "dist/models/transcribe/main.js");
const SENTENCE = "the quick brown fox jumps over the lazy dog";

let missing = "";
let engine: TestEngine | undefined;
let dir: string;
let pcm: Buffer;

before(async () => {
  if (!(await fs.stat(COMPILED).then(() => true, () => false))) {
    missing = `${COMPILED} is not built (npm test builds it first)`;
    return;
  }
  dir = await fs.mkdtemp(join(tmpdir(), "sluice-docker-transcribe-"));
  // Test speech made here with Debian's flite and sox: 16 kHz mono 16-bit, header stripped.
  await run("flite", ["-voice", "slt", "-t", SENTENCE, "-o", join(dir, "raw.wav")]);
  await run("sox", [join(dir, "raw.wav"), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", join(dir, "speech.raw")]);
  pcm = await fs.readFile(join(dir, "speech.raw"));
  engine = await startTestEngine();
});

after(async () => {
  try {
    await engine?.stop();
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }
});

/** Streams the speech to /v1/listen as Deepgram clients do; the final transcripts, joined. */
async function transcribe(port: number): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/listen?encoding=linear16&sample_rate=16000&model=nova-3`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const finals: string[] = [];
  ws.on("message", (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { type?: string; is_final?: boolean; channel?: { alternatives: Array<{ transcript: string }> } };
    if (m.type === "Results" && m.is_final && m.channel) finals.push(m.channel.alternatives[0].transcript);
  });
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close within ${CAP_MS} ms`)), CAP_MS);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  for (let i = 0; i < pcm.length; i += 3200) ws.send(pcm.subarray(i, i + 3200)); // 100 ms chunks
  ws.send(JSON.stringify({ type: "CloseStream" }));
  await closed;
  return finals.join(" ").replace(/\s+/g, " ").trim();
}

test("the transcribe image transcribes like the process-hosted model", async (t) => {
  if (missing) return t.skip(missing);
  const image = await buildBundledImage(engine!.docker, "transcribe");
  const host = createDockerHost(engine!.socketPath, { owner: `transcribe-test-${process.pid}` });
  assert.equal(isBidiCapable(await host.inspect(image)), true);

  const instance = await host.start({
    instanceId: `tx-AllTraffic-${process.pid}`,
    endpointName: "tx",
    variantName: "AllTraffic",
    image,
    environment: {},
    instanceType: "ml.m5.large",
    logFile: join(dir, "container.log"),
  });
  let fromContainer: string;
  try {
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    fromContainer = await transcribe(instance.port);
  } finally {
    assert.deepEqual(await instance.stop(CAP_MS), { code: 0, signal: null });
  }

  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [COMPILED, "serve"], {
    env: { ...process.env, SAGEMAKER_BIND_TO_PORT: String(port), SLUICE_BIND_HOST: "127.0.0.1" },
    stdio: "ignore",
  });
  const childExit = new Promise((r) => child.once("exit", r));
  let fromProcess: string;
  try {
    await waitForPing("127.0.0.1", port, CAP_MS, childExit);
    fromProcess = await transcribe(port);
  } finally {
    child.kill("SIGTERM");
    await childExit;
  }

  assert.equal(fromContainer, fromProcess);
  assert.match(fromContainer, /quick brown fox/);
});
