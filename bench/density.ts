// Scenario 3, density: as many idle sessions as asked, each opened and used once; the memory
// (RSS) the Sluice process, and nginx, hold per session. Counts the open-file limit cannot hold
// are refused before anything starts.

import type { DensityResult } from "./harness/jobs.js";
import { isMain, main } from "./harness/main.js";
import { proxyRole, type Scenario } from "./harness/scenario.js";

type Params = { sessions: number; bytes: number; settleMs: number };

const KiB = 1024;

export const density: Scenario<Params> = {
  name: "density",
  title: "Density",
  defaults: {
    full: { sessions: 4000, bytes: 320, settleMs: 2000 },
    quick: { sessions: 200, bytes: 320, settleMs: 500 },
  },
  columns: [
    { key: "proxyKiBPerSession", label: "proxy KiB/session", digits: 1, better: "lower" },
    { key: "proxyMiB", label: "proxy +MiB", digits: 1, better: "lower" },
    { key: "proxyRetainedMiB", label: "proxy +MiB after close", digits: 1, better: "lower" },
    { key: "openSeconds", label: "open s", digits: 2, better: "lower" },
    { key: "sessions", label: "sessions", digits: 0, better: "higher", noRatio: true },
  ],
  describe: (p) =>
    `${p.sessions} idle sessions held at once (each opened, one ${p.bytes} B echo, then idle), each run on freshly started processes after ${Math.min(200, p.sessions)} warm-up sessions; RSS growth from /proc/<pid>/status ` +
    `${p.settleMs / 1000} s after the last opened, divided by the sessions; "after close" = RSS still above the start once all closed`,
  maxSessions: (p) => p.sessions,
  job: (path, p, ctx) => ({
    kind: "density",
    target: ctx.system.targets[path]!,
    watch: ctx.system.watched(path),
    openConcurrency: 32,
    sessions: p.sessions,
    warmupSessions: Math.min(200, p.sessions),
    bytes: p.bytes,
    settleMs: p.settleMs,
  }),
  metrics: (result, path) => {
    const r = result as DensityResult;
    const grow = (role: string) => (r.rssAfter[role] ?? NaN) - (r.rssBefore[role] ?? NaN);
    const metrics: Record<string, number> = {
      sessions: r.sessions,
      openSeconds: r.openSeconds,
      // In the JSON, not the table: the echo instance is the same on every path, and its RSS moves
      // with its own garbage collections more than with sessions.
      echoKiBPerSession: grow("echo") / r.sessions / KiB,
    };
    const role = proxyRole(path);
    if (role) {
      metrics.proxyKiBPerSession = grow(role) / r.sessions / KiB;
      metrics.proxyMiB = grow(role) / KiB / KiB;
      metrics.proxyRetainedMiB = ((r.rssAfterClose[role] ?? NaN) - (r.rssBefore[role] ?? NaN)) / KiB / KiB;
      metrics.proxyRssMiB = (r.rssAfter[role] ?? NaN) / KiB / KiB;
    }
    return { metrics };
  },
  timeoutMs: (p) => 120_000 + p.sessions * 20,
  // A Node process's RSS keeps what an earlier scenario's heap grew to and reuses it; measured on
  // that, a session would look free. Every run starts on fresh processes instead.
  freshSystemPerRun: true,
};

if (isMain(import.meta.url)) await main([density]);
