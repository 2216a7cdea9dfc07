// Scenario 1, latency: many concurrent sessions each sending a small message (320 bytes = 20 ms
// of 8 kHz 16-bit audio) at a steady rate, open loop; round trips corrected for coordinated
// omission; per path p50, p99, p99.9, and for nginx and sluice the time added over direct.

import { decodeHistogram, percentileMs } from "./harness/histogram.js";
import type { LatencyResult } from "./harness/jobs.js";
import { isMain, main } from "./harness/main.js";
import { proxyRole, type Scenario } from "./harness/scenario.js";

type Params = { sessions: number; ratePerSecond: number; bytes: number; warmupMs: number; durationMs: number };

function latencyScenario(name: string, title: string, defaults: Scenario<Params>["defaults"]): Scenario<Params> {
  return {
  name,
  title,
  defaults,
  columns: [
    { key: "p50", label: "p50 ms", digits: 3, better: "lower" },
    { key: "p99", label: "p99 ms", digits: 3, better: "lower" },
    { key: "p999", label: "p99.9 ms", digits: 3, better: "lower" },
    { key: "addedP50", label: "+p50 ms", digits: 3, better: "lower", addedOver: "p50" },
    { key: "addedP99", label: "+p99 ms", digits: 3, better: "lower", addedOver: "p99" },
    { key: "addedP999", label: "+p99.9 ms", digits: 3, better: "lower", addedOver: "p999" },
    { key: "proxyCpuPct", label: "proxy CPU %", digits: 1, better: "lower" },
    { key: "lost", label: "lost", digits: 0, better: "lower", noRatio: true },
    { key: "loadGeneratorCpuPct", label: "loadgen CPU %", digits: 0, better: "lower", noRatio: true },
  ],
  describe: (p) =>
    `${p.sessions} sessions × ${p.ratePerSecond} msg/s × ${p.bytes} B, open loop, ${p.durationMs / 1000} s measured after ${p.warmupMs / 1000} s warm-up; ` +
    `round trip from each message's due time (coordinated-omission corrected); + = over direct in the same run`,
  maxSessions: (p) => p.sessions,
  job: (path, p, ctx) => ({
    kind: "latency",
    target: ctx.system.targets[path]!,
    watch: ctx.system.watched(path),
    openConcurrency: 50,
    sessions: p.sessions,
    ratePerSecond: p.ratePerSecond,
    bytes: p.bytes,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    drainMs: 5000,
  }),
  metrics: (result, path) => {
    const r = result as LatencyResult;
    const h = decodeHistogram(r.histogram);
    const service = decodeHistogram(r.serviceHistogram);
    const role = proxyRole(path);
    const metrics: Record<string, number> = {
      p50: percentileMs(h, 50),
      p90: percentileMs(h, 90),
      p99: percentileMs(h, 99),
      p999: percentileMs(h, 99.9),
      max: h.maxValue / 1000,
      uncorrectedP99: percentileMs(service, 99),
      uncorrectedP999: percentileMs(service, 99.9),
      received: r.received,
      lost: r.lost,
      messagesPerSecond: r.received / r.wallSeconds,
      loadGeneratorCpuPct: (100 * r.loadGeneratorCpuSeconds) / r.wallSeconds,
      echoCpuPct: (100 * (r.cpuSeconds.echo ?? NaN)) / r.wallSeconds,
    };
    if (role) metrics.proxyCpuPct = (100 * (r.cpuSeconds[role] ?? NaN)) / r.wallSeconds;
    return { metrics, histogram: r.histogram };
  },
  timeoutMs: (p) => p.warmupMs + p.durationMs + 120_000,
  };
}

/** The load: 1,000 sessions × 10 messages/s. */
export const latency = latencyScenario("latency", "Latency", {
  full: { sessions: 1000, ratePerSecond: 10, bytes: 320, warmupMs: 5000, durationMs: 15000 },
  quick: { sessions: 100, ratePerSecond: 10, bytes: 320, warmupMs: 1000, durationMs: 3000 },
});

/** A tenth of it, which every path and the load generator sustain on one core each here: the
 * cost a path adds when nothing is queueing, apart from what happens at saturation. */
export const latencyLight = latencyScenario("latency-light", "Latency, light load", {
  full: { sessions: 100, ratePerSecond: 10, bytes: 320, warmupMs: 2000, durationMs: 10000 },
  quick: { sessions: 20, ratePerSecond: 10, bytes: 320, warmupMs: 500, durationMs: 2000 },
});

if (isMain(import.meta.url)) await main([latency, latencyLight]);
