// Hosting benchmark (issue 8): containers against processes, for the same echo model.
//   - CreateEndpoint → InService (DescribeEndpoint's EndpointStatus), one instance;
//   - instance kill (SIGKILL of the process / SIGKILL of the container through the engine, as
//     `podman kill` does) → a replacement serving: a new instance listed in rotation by
//     Sluice.ListInstances, answering GET /ping, and a bidirectional session through Sluice
//     landing on it (its echo of `sluice.echo.info` names the new instance).
// Everything runs on 127.0.0.1: a private `podman system service`, the compiled `sluice serve`
// with --docker-host on it, the echo image built (engine cache) first. Each round deploys a fresh endpoint
// per kind (so the reconciler's crash backoff never carries over), kinds taking turns first.
// Also a "container-crash" kind (the model pid in the container SIGKILLed from the host); see
// bench/hosting.md for the method and the results.
//
//   npm run build && node dist/bench/hosting.js [--rounds 5] [--warmup 1] [--poll-ms 25] [--no-crash]
//
// Prints a table, writes bench/results/hosting-<timestamp>.json. Never part of `npm test`.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { ApiClient } from "../src/cli/api-client.js";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client } from "../src/client/index.js";
import { buildBundledImages } from "../src/hosting/docker-bundled-images.js";
import { ownerFilter, ownerForDataDir } from "../src/hosting/docker-labels.js";
import { startPodmanService, type PodmanService } from "../src/hosting/docker-podman-service.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SLUICE_BIN = join(ROOT, "dist", "src", "cli", "main.js");
const REGION = "us-east-1";
const PROCESS_IMAGE = "sluice/echo";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    "poll-ms": { type: "string", default: "25" },
    "cap-s": { type: "string", default: "120" },
    out: { type: "string" },
    /** Also the container-crash kind (see Kind); --no-crash leaves it out. */
    crash: { type: "boolean", default: true },
  },
});
const ROUNDS = Number(flags.rounds);
const WARMUP = Number(flags.warmup);
const POLL_MS = Number(flags["poll-ms"]);
const CAP_MS = Number(flags["cap-s"]) * 1000;
/** A round that fails is retried (and the failure reported) at most this many times in all. */
const MAX_ATTEMPTS = 3;
if (!(ROUNDS >= 1 && WARMUP >= 0 && POLL_MS >= 1 && CAP_MS > 0)) throw new Error("--rounds ≥ 1, --warmup ≥ 0, --poll-ms ≥ 1, --cap-s > 0");

/** `container-crash`: the container deployed the same way, but "killed" by SIGKILLing its model
 *  process from the host (its pid from the engine), as a crash inside the container would end it,
 *  without the engine's kill request, whose own time is part of the `container` figure. */
type Kind = "process" | "container" | "container-crash";

interface Round {
  kind: Kind;
  round: number;
  warmup: boolean;
  endpoint: string;
  loadavg1: number;
  /** CreateEndpoint sent → the instance (listed by Sluice) answers the bench's own GET /ping. */
  createToPingMs: number;
  /** CreateEndpoint sent → DescribeEndpoint first says InService. */
  createToInServiceMs: number;
  /** CreateEndpoint sent → first bidi round trip through Sluice after InService. */
  createToFirstBidiMs: number;
  /** How long the kill call itself took (the engine API request for containers). */
  killCallMs: number;
  /** Kill issued → the victim no longer listed as running by Sluice.ListInstances. */
  killToGoneMs: number;
  /** Kill issued → a new instance listed (any state). */
  killToReplacementListedMs: number;
  /** Kill issued → the new instance answers the bench's own GET /ping (polled once listed). */
  killToReplacementPingMs: number;
  /** Kill issued → the new instance listed Healthy and in rotation. */
  killToReplacementHealthyMs: number;
  /** Kill issued → new instance in rotation, /ping 200 from it, and a bidi session landing on it. */
  killToServingMs: number;
  /** For `container-crash`, pid is the model process's host pid that was SIGKILLed. */
  victim: { instanceId: string; pid?: number; containerId?: string };
  replacement: { instanceId: string; pid?: number; containerId?: string };
}

interface InstanceRow {
  InstanceId: string;
  Pid?: number;
  ContainerId?: string;
  Host: string;
  Port: number;
  State: string;
  InRotation: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

// ---- what gets cleaned up, whatever happens ---------------------------------------------------
let engine: PodmanService | undefined;
let sluice: { proc: ChildProcess; url: string; exited: Promise<unknown>; stderr: () => string } | undefined;
let dataDir: string | undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (sluice && sluice.proc.exitCode === null && sluice.proc.signalCode === null) {
      sluice.proc.kill("SIGTERM");
      const timer = setTimeout(() => sluice?.proc.kill("SIGKILL"), 15_000);
      await sluice.exited;
      clearTimeout(timer);
    }
    if (engine && dataDir) {
      // Sluice removes its containers on shutdown; anything left (a SIGKILLed Sluice) goes here.
      const left = await engine.docker.listContainers({ all: true, filters: ownerFilter(ownerForDataDir(dataDir)) }).catch(() => []);
      for (const c of left) await engine.docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      if (left.length > 0) console.error(`cleanup: removed ${left.length} leftover container(s)`);
    }
    await engine?.stop().catch(() => {});
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---- set-up --------------------------------------------------------------------------------------
async function startSluice(socketPath: string, key: { accessKeyId: string; secretAccessKey: string }) {
  dataDir = mkdtempSync(join(tmpdir(), "sluice-bench-hosting-"));
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_ACCESS_KEY_ID: key.accessKeyId, SLUICE_SECRET_ACCESS_KEY: key.secretAccessKey };
  delete env.SLUICE_PORT;
  delete env.DOCKER_HOST;
  // Production defaults for everything measured; only the stop grace is short, and it is only
  // spent deleting endpoints between rounds (the echo model exits on SIGTERM at once anyway).
  const args = [SLUICE_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--log-level", "warn",
    "--docker-host", `unix://${socketPath}`, "--instance-stop-grace", "3s"];
  const proc = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-16_384)));
  const exited = once(proc, "exit").catch(() => undefined);
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((res, rej) => {
    const onExit = () => rej(new Error(`sluice exited before printing its URL:\n${err}`));
    proc.once("exit", onExit);
    lines.once("line", (line) => {
      proc.off("exit", onExit);
      res(line.trim());
    });
  });
  lines.on("line", () => {}); // keep draining stdout
  sluice = { proc, url, exited, stderr: () => err };
  return { url, args: args.slice(2), stderr: () => err };
}

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).split("\n")[0].trim();
  } catch {
    return "unknown";
  }
}

// ---- measurement ---------------------------------------------------------------------------------
async function waitUntil<T>(what: string, t0: number, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (now() - t0 > CAP_MS) throw new Error(`timed out (${CAP_MS} ms) waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

async function main() {
  const started = new Date();
  const key = { accessKeyId: `AKSLBENCH${randomBytes(6).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(24).toString("hex") };
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    podman: versionOf("podman", ["--version"]),
    runtime: versionOf("runc", ["--version"]),
    shared: "2 cores shared with other engineers' builds and tests while measuring",
  };
  console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.podman}, ${machine.runtime}`);

  engine = await startPodmanService({ readyTimeoutMs: 60_000 });
  const t = now();
  const built = await buildBundledImages(engine.docker, { projectRoot: ROOT, only: ["echo"] });
  const image = built[built.length - 1];
  console.log(`image: ${image.reference} ${image.id.slice(0, 12)} (${image.skipped ? "already built" : `built in ${Math.round(now() - t)} ms`})`);

  const s = await startSluice(engine.socketPath, key);
  console.log(`sluice: ${s.url} (podman service ${engine.socketPath})`);
  const sm = new SageMakerClient({ endpoint: s.url, region: REGION, credentials: key, maxAttempts: 1 });
  const api = new ApiClient({ endpointUrl: s.url, region: REGION, dataDir: dataDir!, ...key });
  const rt = new SageMakerRuntimeHTTP2Client({ endpoint: s.url, region: REGION, credentials: key });

  const images: Record<Kind, string> = { process: PROCESS_IMAGE, container: image.reference, "container-crash": image.reference };
  const rounds: Round[] = [];

  const list = async (endpoint: string) =>
    (await api.call<{ Instances: InstanceRow[] }>("Sluice.ListInstances", { EndpointName: endpoint })).Instances;

  /** One bidi session: asks the echo model which instance it is. Undefined on any failure. */
  async function whoAnswers(endpoint: string): Promise<string | undefined> {
    const abort = AbortSignal.timeout(5_000);
    try {
      async function* body() {
        yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"sluice.echo.info"}'), DataType: "UTF8" as const } };
        yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"CloseStream"}'), DataType: "UTF8" as const } };
      }
      const out = await rt.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: endpoint, Body: body() }), { abortSignal: abort });
      let id: string | undefined;
      for await (const e of out.Body!) {
        if (!e.PayloadPart?.Bytes || id !== undefined) continue;
        id = (JSON.parse(new TextDecoder().decode(e.PayloadPart.Bytes)) as { instanceId: string }).instanceId;
      }
      return id;
    } catch {
      return undefined;
    }
  }

  async function pingOk(host: string, port: number): Promise<boolean> {
    try {
      return (await fetch(`http://${host}:${port}/ping`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    } catch {
      return false;
    }
  }

  async function measure(kind: Kind, round: number, warmup: boolean, tryNo: number): Promise<Round> {
    const endpoint = `bench-hosting-${kind}-${warmup ? "w" : ""}${round}${tryNo > 1 ? `-try${tryNo}` : ""}`;
    const model = `${endpoint}-model`;
    const config = `${endpoint}-config`;
    await sm.send(new CreateModelCommand({ ModelName: model, PrimaryContainer: { Image: images[kind] }, ExecutionRoleArn: "arn:aws:iam::000000000000:role/sluice-bench" }));
    await sm.send(new CreateEndpointConfigCommand({
      EndpointConfigName: config,
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: model, InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
    }));
    const load = loadavg()[0];
    try {
      // CreateEndpoint → InService
      const t0 = now();
      await sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config }));
      let firstPing: number | undefined;
      await waitUntil(`${endpoint} InService`, t0, async () => {
        if (firstPing === undefined) {
          // The bench's own probe of the new instance, as soon as Sluice lists it: when the model
          // itself is ready, apart from Sluice's 500 ms startup /ping cadence.
          const [row] = await list(endpoint).catch(() => [] as InstanceRow[]);
          if (row && (await pingOk(row.Host, row.Port))) firstPing = now() - t0;
        }
        const d = await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
        if (d.EndpointStatus === "Failed") throw new Error(`${endpoint} Failed: ${d.FailureReason}`);
        return d.EndpointStatus === "InService" ? true : undefined;
      });
      const inService = now() - t0;
      firstPing ??= inService;
      const first = await waitUntil(`${endpoint} first bidi`, t0, () => whoAnswers(endpoint));
      const firstBidi = now() - t0;

      // kill → replacement serving
      const [victim] = (await list(endpoint)).filter((i) => i.InstanceId === first);
      if (!victim) throw new Error(`${endpoint}: instance ${first} not listed`);
      const hostPid = kind === "container-crash" ? (await engine!.docker.getContainer(victim.ContainerId!).inspect()).State.Pid : undefined;
      if (hostPid !== undefined && !(hostPid > 0)) throw new Error(`${endpoint}: no host pid for container ${victim.ContainerId}`);
      const k0 = now();
      if (kind === "process") process.kill(victim.Pid!, "SIGKILL");
      else if (kind === "container-crash") process.kill(hostPid!, "SIGKILL");
      else await engine!.docker.getContainer(victim.ContainerId!).kill({ signal: "SIGKILL" });
      const killCall = now() - k0;
      let gone: number | undefined;
      let listed: number | undefined;
      let healthy: number | undefined;
      let answered: number | undefined;
      const replacement = await waitUntil(`${endpoint} replacement serving`, k0, async () => {
        const rows = await list(endpoint);
        const at = now() - k0;
        const v = rows.find((r) => r.InstanceId === victim.InstanceId);
        if (gone === undefined && (v === undefined || v.State === "Stopping" || !v.InRotation)) gone = at;
        const fresh = rows.find((r) => r.InstanceId !== victim.InstanceId);
        if (fresh === undefined) return undefined;
        listed ??= at;
        if (answered === undefined && (await pingOk(fresh.Host, fresh.Port))) answered = now() - k0;
        if (!(fresh.State === "Healthy" && fresh.InRotation)) return undefined;
        healthy ??= at;
        if (!(await pingOk(fresh.Host, fresh.Port))) return undefined;
        return (await whoAnswers(endpoint)) === fresh.InstanceId ? fresh : undefined;
      });
      const serving = now() - k0;
      const r: Round = {
        kind, round, warmup, endpoint, loadavg1: load,
        createToPingMs: firstPing,
        createToInServiceMs: inService,
        createToFirstBidiMs: firstBidi,
        killCallMs: killCall,
        killToGoneMs: gone ?? serving,
        killToReplacementListedMs: listed ?? serving,
        killToReplacementPingMs: answered ?? serving,
        killToReplacementHealthyMs: healthy ?? serving,
        killToServingMs: serving,
        victim: { instanceId: victim.InstanceId, pid: victim.Pid ?? hostPid, containerId: victim.ContainerId },
        replacement: { instanceId: replacement.InstanceId, pid: replacement.Pid, containerId: replacement.ContainerId },
      };
      console.log(
        `${warmup ? "warm-up" : `round ${round}`} ${kind.padEnd(9)} create→InService ${fmt(inService)}  kill→serving ${fmt(serving)}` +
          `  (gone ${fmt(r.killToGoneMs)}, listed ${fmt(r.killToReplacementListedMs)}, ping ${fmt(r.killToReplacementPingMs)}, healthy ${fmt(r.killToReplacementHealthyMs)}; load ${load.toFixed(2)})`,
      );
      return r;
    } finally {
      await teardown(endpoint, config, model);
    }
  }

  async function teardown(endpoint: string, config: string, model: string) {
    await sm.send(new DeleteEndpointCommand({ EndpointName: endpoint })).catch(() => {});
    const t0 = now();
    await waitUntil(`${endpoint} deleted`, t0, async () => {
      try {
        await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
        return undefined;
      } catch {
        return true;
      }
    }).catch(() => {});
    // Wait for its instances to be gone too, so the next round starts on a quiet machine.
    await waitUntil(`${endpoint} instances gone`, t0, async () => ((await list(endpoint).catch(() => [])).length === 0 ? true : undefined)).catch(() => {});
    await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: config })).catch(() => {});
    await sm.send(new DeleteModelCommand({ ModelName: model })).catch(() => {});
  }

  /** Rounds that failed (an endpoint Failed, a timeout): recorded and reported, then retried. */
  const failures: { kind: Kind; round: number; attempt: number; warmup: boolean; error: string }[] = [];
  async function attempt(kind: Kind, round: number, warmup: boolean): Promise<Round> {
    for (let a = 1; ; a++) {
      try {
        return await measure(kind, round, warmup, a);
      } catch (err) {
        const error = (err as Error).message;
        failures.push({ kind, round, attempt: a, warmup, error });
        console.log(`${warmup ? "warm-up" : `round ${round}`} ${kind.padEnd(9)} FAILED (attempt ${a}): ${error}`);
        if (a >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  try {
    const kinds: Kind[] = flags.crash ? ["process", "container", "container-crash"] : ["process", "container"];
    for (let w = 0; w < WARMUP; w++) for (const kind of kinds) rounds.push(await attempt(kind, w + 1, true));
    for (let i = 1; i <= ROUNDS; i++) {
      // Rotate which kind goes first, so a drift in the machine's load falls on all of them.
      const order = kinds.map((_, j) => kinds[(i - 1 + j) % kinds.length]);
      for (const kind of order) rounds.push(await attempt(kind, i, false));
    }
  } finally {
    rt.destroy();
    sm.destroy();
  }

  const measured = rounds.filter((r) => !r.warmup);
  const metrics: { key: keyof Round; label: string }[] = [
    { key: "createToPingMs", label: "CreateEndpoint → instance answers /ping (bench's probe)" },
    { key: "createToInServiceMs", label: "**CreateEndpoint → InService**" },
    { key: "createToFirstBidiMs", label: "CreateEndpoint → first bidi answered" },
    { key: "killCallMs", label: "kill call returned (process.kill / engine's kill API)" },
    { key: "killToGoneMs", label: "kill → out of rotation" },
    { key: "killToReplacementListedMs", label: "kill → replacement started (listed)" },
    { key: "killToReplacementPingMs", label: "kill → replacement answers /ping (bench's probe)" },
    { key: "killToReplacementHealthyMs", label: "kill → replacement Healthy, in rotation" },
    { key: "killToServingMs", label: "**kill → replacement serving** (in rotation, /ping, bidi on it)" },
  ];
  const summary = metrics.map((m) => {
    const per = (kind: Kind) => stats(measured.filter((r) => r.kind === kind).map((r) => r[m.key] as number));
    const p = per("process");
    const c = per("container");
    const cc = flags.crash ? per("container-crash") : undefined;
    // A ratio to a figure under a millisecond (process.kill returning) says nothing.
    const ratio = (x: { p50: number }) => (p.p50 >= 1 ? x.p50 / p.p50 : null);
    return { metric: m.key, label: m.label, process: p, container: c, ratio: ratio(c), containerCrash: cc, crashRatio: cc ? ratio(cc) : undefined };
  });
  const times = (r: number | null | undefined) => (r === null || r === undefined ? "—" : `${r.toFixed(1)}×`);

  const header = `| ms, p50 (min–max) of ${ROUNDS} | process (${PROCESS_IMAGE}) | container (${image.reference}) | container / process |`;
  const table = [
    header,
    "|---|---:|---:|---:|",
    ...summary.map((s) => `| ${s.label} | ${cell(s.process)} | ${cell(s.container)} | ${times(s.ratio)} |`),
  ].join("\n");
  console.log(`\n${table}\n`);
  const crashTable = flags.crash
    ? [
        `| ms, p50 (min–max) of ${ROUNDS} | process: SIGKILL | container: model's pid SIGKILLed from the host | ÷ process |`,
        "|---|---:|---:|---:|",
        ...summary.filter((s) => s.metric.startsWith("kill")).map((s) => `| ${s.label} | ${cell(s.process)} | ${cell(s.containerCrash!)} | ${times(s.crashRatio)} |`),
      ].join("\n")
    : undefined;
  if (crashTable) console.log(`A crash inside the container (no engine kill request):\n\n${crashTable}\n`);
  if (failures.length > 0) console.log(`${failures.length} failed attempt(s), retried (not in the figures): ${failures.map((f) => `${f.kind} round ${f.round}: ${f.error.slice(0, 160)}`).join("; ")}\n`);

  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = flags.out ?? join(resultsDir, `hosting-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  const pkgVersion = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: "hosting",
        started: started.toISOString(),
        finished: new Date().toISOString(),
        sluiceVersion: pkgVersion,
        machine,
        settings: { rounds: ROUNDS, warmup: WARMUP, pollMs: POLL_MS, sluiceArgs: s.args.map((a) => (a.startsWith("unix://") ? "unix://<private podman service>" : a === dataDir ? "<temporary dir>" : a)), instances: 1, instanceType: "ml.m5.large" },
        images: { process: PROCESS_IMAGE, container: image.reference, containerImageId: image.id },
        summary,
        table,
        crashTable,
        failures,
        rounds,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`results: ${file}`);
}

function stats(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  const p50 = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, p50, min: sorted[0], max: sorted[n - 1], values: xs };
}
function fmt(ms: number): string {
  return `${Math.round(ms)} ms`;
}
function cell(s: { p50: number; min: number; max: number }): string {
  return `${Math.round(s.p50)} (${Math.round(s.min)}–${Math.round(s.max)})`;
}

try {
  await main();
} catch (err) {
  console.error(`bench hosting: ${(err as Error).stack ?? err}`);
  if (sluice?.stderr()) console.error(`sluice stderr (last 16 KiB):\n${sluice.stderr()}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
