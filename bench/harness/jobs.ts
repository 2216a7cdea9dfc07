// The work the parent hands the load generator, and what comes back: plain data over IPC.

import type { Target, Watched } from "./targets.js";

interface JobBase {
  target: Target;
  /** SUT processes to sample (CPU over the measured window, memory for density). */
  watch: Watched;
  /** Sessions opened at once while ramping up, so a path is not judged on a SYN flood. */
  openConcurrency: number;
}

export interface LatencyJob extends JobBase {
  kind: "latency";
  sessions: number;
  ratePerSecond: number;
  bytes: number;
  warmupMs: number;
  durationMs: number;
  /** How long to wait for echoes still owed after the window before counting them lost. */
  drainMs: number;
}

export interface StreamJob extends JobBase {
  kind: "stream";
  sessions: number;
  /** Messages in flight per session: each echo received lets one more go. */
  window: number;
  bytes: number;
  warmupMs: number;
  durationMs: number;
}

export interface DensityJob extends JobBase {
  kind: "density";
  sessions: number;
  /** Sessions opened, used and closed before the baseline, so one-time costs (JIT, pools) are not counted per session. */
  warmupSessions: number;
  bytes: number;
  settleMs: number;
}

export interface SetupJob extends JobBase {
  kind: "setup";
  count: number;
  warmup: number;
  concurrency: number;
}

export type Job = LatencyJob | StreamJob | DensityJob | SetupJob;

export interface CpuWindow {
  /** CPU seconds each watched role used during the measured window. */
  cpuSeconds: Record<string, number>;
  /** The load generator's own CPU seconds in the window: near wall time means it, not the path, was the limit. */
  loadGeneratorCpuSeconds: number;
  /** Seconds each watched role (and `loadGenerator`) was runnable but waiting for its core. */
  waitSeconds: Record<string, number>;
  wallSeconds: number;
}

export interface LatencyResult extends CpuWindow {
  kind: "latency";
  /** Round trip from the time each message was due to be sent (coordinated-omission corrected), µs. */
  histogram: string;
  /** Round trip from the time it was actually handed to the client, µs: the uncorrected view. */
  serviceHistogram: string;
  sent: number;
  received: number;
  lost: number;
  errors: string[];
}

export interface StreamResult extends CpuWindow {
  kind: "stream";
  messages: number;
  bytes: number;
  errors: string[];
}

export interface DensityResult {
  kind: "density";
  sessions: number;
  openSeconds: number;
  rssBefore: Record<string, number>;
  rssAfter: Record<string, number>;
  rssAfterClose: Record<string, number>;
  errors: string[];
}

export interface SetupResult {
  kind: "setup";
  histogram: string;
  count: number;
  errors: string[];
}

export type JobResult = LatencyResult | StreamResult | DensityResult | SetupResult;
