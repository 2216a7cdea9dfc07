// The load generator: a process of its own, pinned by the parent to the load core, that runs one
// job against one path and reports back over IPC. A fresh process per job keeps one path's heap
// and JIT state from colouring the next path's numbers.

import { performance } from "node:perf_hooks";
import { encodeHistogram, newHistogram } from "./histogram.js";
import type { CpuWindow, DensityJob, DensityResult, Job, JobResult, LatencyJob, LatencyResult, SetupJob, SetupResult, StreamJob, StreamResult } from "./jobs.js";
import { cpuSnapshot, diff, rssSnapshot, waitSnapshot } from "./proc.js";
import { sessionFactory, type BenchSession, type SessionFactory } from "./sessions.js";
import type { Watched } from "./targets.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watchedPids(watch: Watched): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [role, pids] of Object.entries(watch)) if (pids && pids.length > 0) out[role] = pids;
  return out;
}

/** Opens `n` sessions, at most `concurrency` handshakes at a time; `each` runs on every session as it opens. */
async function openSessions(
  factory: SessionFactory,
  n: number,
  concurrency: number,
  errors: string[],
  each?: (session: BenchSession, index: number) => Promise<void> | void,
): Promise<BenchSession[]> {
  const sessions: BenchSession[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const session = await factory.open();
      session.onError = (err) => noteError(errors, err);
      sessions[i] = session;
      await each?.(session, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return sessions;
}

function noteError(errors: string[], err: Error): void {
  // Keep the first few distinct messages: enough to diagnose, not enough to flood the report.
  const message = err.message || String(err);
  if (errors.length < 20 && !errors.includes(message)) errors.push(message);
}

async function closeAll(sessions: BenchSession[], concurrency: number, timeoutMs = 15_000): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const s = sessions[next++];
      if (!s) continue;
      const closed = s.close();
      const timedOut = await Promise.race([closed.then(() => false), sleep(timeoutMs).then(() => true)]);
      if (timedOut) s.destroy();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, worker));
}

function payload(bytes: number): Buffer {
  // Deterministic, incompressible-looking bytes (nothing on the path compresses, but no path gets a trivial pattern).
  const b = Buffer.alloc(bytes);
  let x = 0x2545f491;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function startWindow(watch: Record<string, number[]>) {
  const cpu0 = cpuSnapshot(watch);
  const wait0 = waitSnapshot(watch);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  return (): CpuWindow => {
    const cpu = diff(cpuSnapshot(watch), cpu0);
    const wait = diff(waitSnapshot(watch), wait0);
    const self = process.cpuUsage(self0);
    return { cpuSeconds: cpu, waitSeconds: wait, loadGeneratorCpuSeconds: (self.user + self.system) / 1e6, wallSeconds: (performance.now() - t0) / 1000 };
  };
}

/** Open loop: every session sends on its own fixed schedule whatever happens to earlier
 * messages, and each round trip is timed from when its message was *due*, so a stall shows up
 * as the latency every message behind it really saw (no coordinated omission). */
async function latency(job: LatencyJob): Promise<LatencyResult> {
  const errors: string[] = [];
  const factory = sessionFactory(job.target);
  const watch = watchedPids(job.watch);
  const corrected = newHistogram();
  const service = newHistogram();
  const data = payload(job.bytes);
  const n = job.sessions;
  const interval = 1000 / job.ratePerSecond;
  const due: number[][] = Array.from({ length: n }, () => []);
  const sentAt: number[][] = Array.from({ length: n }, () => []);
  let measureStart = Infinity;
  let measureEnd = Infinity;
  let sent = 0;
  let received = 0;
  let owed = 0; // messages due inside the window and not yet echoed

  const sessions = await openSessions(factory, n, job.openConcurrency, errors, (session, i) => {
    session.onMessage = () => {
      const now = performance.now();
      const d = due[i]!.shift();
      const s = sentAt[i]!.shift();
      if (d === undefined || s === undefined) return;
      if (d >= measureStart && d < measureEnd) {
        corrected.recordValue(Math.max(1, Math.round((now - d) * 1000)));
        service.recordValue(Math.max(1, Math.round((now - s) * 1000)));
        received++;
        owed--;
      }
    };
  });

  // Sessions are spread evenly over the interval so the load is smooth, not a burst every tick.
  const t0 = performance.now() + 10;
  measureStart = t0 + job.warmupMs;
  measureEnd = measureStart + job.durationMs;
  let finishWindow: (() => CpuWindow) | undefined;
  let cursor = 0;
  let round = 0;
  const dueTime = () => t0 + round * interval + (cursor * interval) / n;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      if (finishWindow === undefined && now >= measureStart) finishWindow = startWindow(watch);
      for (let d = dueTime(); d <= now; d = dueTime()) {
        if (d >= measureEnd) return done();
        const i = cursor;
        due[i]!.push(d);
        sentAt[i]!.push(performance.now());
        sessions[i]!.send(data, true);
        sent++;
        if (d >= measureStart) owed++;
        if (++cursor === n) {
          cursor = 0;
          round++;
        }
      }
      setTimeout(tick, Math.max(0, dueTime() - performance.now()));
    };
    tick();
  });
  const window = (finishWindow ?? startWindow(watch))();
  // Echoes still owed get a grace period; any that never come are reported as lost, never dropped silently.
  const drainDeadline = performance.now() + job.drainMs;
  while (owed > 0 && performance.now() < drainDeadline) await sleep(10);
  const lost = owed;
  await closeAll(sessions, job.openConcurrency);
  factory.dispose();
  return {
    kind: "latency",
    histogram: encodeHistogram(corrected),
    serviceHistogram: encodeHistogram(service),
    sent,
    received,
    lost,
    errors,
    ...window,
  };
}

/** Closed loop with a window: each session keeps `window` messages in flight and sends the next
 * as each echo returns, so the path runs as fast as its backpressure lets it. */
async function stream(job: StreamJob): Promise<StreamResult> {
  const errors: string[] = [];
  const factory = sessionFactory(job.target);
  const watch = watchedPids(job.watch);
  const data = payload(job.bytes);
  let running = true;
  let counting = false;
  let messages = 0;
  let bytes = 0;
  let inFlight = 0;
  const sessions = await openSessions(factory, job.sessions, job.openConcurrency, errors, (session) => {
    session.onMessage = (echo) => {
      inFlight--;
      if (counting) {
        messages++;
        bytes += echo.length;
      }
      if (running) {
        session.send(data, true);
        inFlight++;
      }
    };
  });
  for (const s of sessions) {
    for (let k = 0; k < job.window; k++) {
      s.send(data, true);
      inFlight++;
    }
  }
  await sleep(job.warmupMs);
  counting = true;
  const finish = startWindow(watch);
  await sleep(job.durationMs);
  counting = false;
  const window = finish();
  running = false;
  const deadline = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < deadline) await sleep(10);
  await closeAll(sessions, job.openConcurrency);
  factory.dispose();
  return { kind: "stream", messages, bytes, errors, ...window };
}

/** Idle sessions: each opened, used once (one echo, so buffers a real session touches exist), then left open. */
async function density(job: DensityJob): Promise<DensityResult> {
  const errors: string[] = [];
  const factory = sessionFactory(job.target);
  const watch = watchedPids(job.watch);
  const data = payload(job.bytes);
  const useOnce = (session: BenchSession) =>
    new Promise<void>((resolve) => {
      session.onMessage = () => resolve();
      session.send(data, true);
    });
  if (job.warmupSessions > 0) {
    const warm = await openSessions(factory, job.warmupSessions, job.openConcurrency, errors, useOnce);
    await closeAll(warm, job.openConcurrency);
    await sleep(job.settleMs);
  }
  const rssBefore = rssSnapshot(watch);
  const t0 = performance.now();
  const sessions = await openSessions(factory, job.sessions, job.openConcurrency, errors, useOnce);
  const openSeconds = (performance.now() - t0) / 1000;
  await sleep(job.settleMs);
  const rssAfter = rssSnapshot(watch);
  await closeAll(sessions, job.openConcurrency);
  factory.dispose();
  await sleep(job.settleMs);
  const rssAfterClose = rssSnapshot(watch);
  return { kind: "density", sessions: sessions.length, openSeconds, rssBefore, rssAfter, rssAfterClose, errors };
}

/** New sessions one after another (or a few at once): the time from the request until the
 * session is usable — the WebSocket's 101, or Sluice's response headers (:status 200, sent only
 * once the sidecar's WebSocket to the instance is open). */
async function setup(job: SetupJob): Promise<SetupResult> {
  const errors: string[] = [];
  const factory = sessionFactory(job.target);
  const h = newHistogram();
  let next = 0;
  let count = 0;
  const total = job.warmup + job.count;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      let session: BenchSession;
      try {
        session = await factory.open();
      } catch (err) {
        noteError(errors, err as Error);
        continue;
      }
      const elapsed = performance.now() - t0;
      if (i >= job.warmup) {
        h.recordValue(Math.max(1, Math.round(elapsed * 1000)));
        count++;
      }
      await session.close();
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  factory.dispose();
  return { kind: "setup", histogram: encodeHistogram(h), count, errors };
}

async function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case "latency":
      return latency(job);
    case "stream":
      return stream(job);
    case "density":
      return density(job);
    case "setup":
      return setup(job);
  }
}

process.once("message", (job: Job) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }, () => process.exit(1)),
  );
});
