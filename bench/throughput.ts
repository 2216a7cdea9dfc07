// Scenario 2, throughput: a few sessions sending as fast as backpressure allows (each keeps a
// window of messages in flight); messages and MB per second, and the CPU seconds the proxy in the
// middle (the Sluice process, or nginx) spends per 100,000 echoed messages, from /proc/<pid>/stat.

import type { StreamResult } from "./harness/jobs.js";
import { isMain, main } from "./harness/main.js";
import { proxyRole, type Scenario } from "./harness/scenario.js";

type Params = { sessions: number; window: number; bytes: number; warmupMs: number; durationMs: number };

export const throughput: Scenario<Params> = {
  name: "throughput",
  title: "Throughput",
  defaults: {
    full: { sessions: 4, window: 32, bytes: 320, warmupMs: 2000, durationMs: 10000 },
    quick: { sessions: 2, window: 32, bytes: 320, warmupMs: 500, durationMs: 2000 },
  },
  columns: [
    { key: "messagesPerSecond", label: "msg/s", digits: 0, better: "higher" },
    { key: "MBps", label: "MB/s", digits: 2, better: "higher" },
    { key: "proxyCpuPer100k", label: "proxy CPU s/100k msg", digits: 2, better: "lower" },
    { key: "proxyCpuPct", label: "proxy CPU %", digits: 0, better: "lower" },
    { key: "echoCpuPer100k", label: "echo CPU s/100k msg", digits: 2, better: "lower" },
    { key: "loadGeneratorCpuPct", label: "loadgen CPU %", digits: 0, better: "lower", noRatio: true },
  ],
  describe: (p) =>
    `${p.sessions} sessions, ${p.window} × ${p.bytes} B messages in flight each, ${p.durationMs / 1000} s measured after ${p.warmupMs / 1000} s; ` +
    `a message = one echo round trip (it crosses the proxy twice); MB/s = echoed payload bytes (10^6) per second`,
  maxSessions: (p) => p.sessions,
  job: (path, p, ctx) => ({
    kind: "stream",
    target: ctx.system.targets[path]!,
    watch: ctx.system.watched(path),
    openConcurrency: 8,
    sessions: p.sessions,
    window: p.window,
    bytes: p.bytes,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
  }),
  metrics: (result, path) => streamMetrics(result as StreamResult, path),
  timeoutMs: (p) => p.warmupMs + p.durationMs + 90_000,
};

export function streamMetrics(r: StreamResult, path: Parameters<typeof proxyRole>[0]): { metrics: Record<string, number> } {
  const role = proxyRole(path);
  const metrics: Record<string, number> = {
    messagesPerSecond: r.messages / r.wallSeconds,
    MBps: r.bytes / r.wallSeconds / 1e6,
    echoCpuPer100k: ((r.cpuSeconds.echo ?? NaN) / r.messages) * 1e5,
    echoCpuPct: (100 * (r.cpuSeconds.echo ?? NaN)) / r.wallSeconds,
    loadGeneratorCpuPct: (100 * r.loadGeneratorCpuSeconds) / r.wallSeconds,
    messages: r.messages,
  };
  if (role) {
    const cpu = r.cpuSeconds[role] ?? NaN;
    metrics.proxyCpuPer100k = (cpu / r.messages) * 1e5;
    metrics.proxyCpuPerGB = cpu / (r.bytes / 1e9);
    metrics.proxyCpuPct = (100 * cpu) / r.wallSeconds;
  }
  return { metrics };
}

if (isMain(import.meta.url)) await main([throughput]);
