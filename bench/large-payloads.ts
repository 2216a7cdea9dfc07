// Scenario 4, large payloads: 512 KB parts, as the SageMaker announcement's sample sends; MB/s per
// path, and what the proxy's CPU costs per GB moved.

import type { StreamResult } from "./harness/jobs.js";
import { isMain, main } from "./harness/main.js";
import type { Scenario } from "./harness/scenario.js";
import { streamMetrics } from "./throughput.js";

type Params = { sessions: number; window: number; bytes: number; warmupMs: number; durationMs: number };

export const largePayloads: Scenario<Params> = {
  name: "large-payloads",
  title: "Large payloads",
  defaults: {
    full: { sessions: 1, window: 4, bytes: 512 * 1024, warmupMs: 2000, durationMs: 10000 },
    quick: { sessions: 1, window: 4, bytes: 512 * 1024, warmupMs: 500, durationMs: 2000 },
  },
  columns: [
    { key: "MBps", label: "MB/s", digits: 1, better: "higher" },
    { key: "messagesPerSecond", label: "parts/s", digits: 0, better: "higher" },
    { key: "proxyCpuPerGB", label: "proxy CPU s/GB", digits: 2, better: "lower" },
    { key: "proxyCpuPct", label: "proxy CPU %", digits: 0, better: "lower" },
    { key: "loadGeneratorCpuPct", label: "loadgen CPU %", digits: 0, better: "lower", noRatio: true },
  ],
  describe: (p) =>
    `${p.sessions} session(s), ${p.window} parts of ${p.bytes / 1024} KiB in flight, binary, ${p.durationMs / 1000} s measured after ${p.warmupMs / 1000} s; ` +
    `MB/s = echoed payload bytes (10^6) per second`,
  maxSessions: (p) => p.sessions,
  job: (path, p, ctx) => ({
    kind: "stream",
    target: ctx.system.targets[path]!,
    watch: ctx.system.watched(path),
    openConcurrency: 4,
    sessions: p.sessions,
    window: p.window,
    bytes: p.bytes,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
  }),
  metrics: (result, path) => streamMetrics(result as StreamResult, path),
  timeoutMs: (p) => p.warmupMs + p.durationMs + 90_000,
};

if (isMain(import.meta.url)) await main([largePayloads]);
