// What every scenario shares: run each path several times, interleaved, through a fresh load
// generator each time; turn each result into named figures; summarize the runs as medians with
// their spread; add the "over direct" differences and the sluice/direct and sluice/nginx ratios.

import { loadavg } from "node:os";
import type { Job, JobResult } from "./jobs.js";
import { runLoad } from "./loadgen.js";
import type { RunOptions } from "./options.js";
import { summarize, type Summary } from "./stats.js";
import type { System } from "./system.js";
import type { PathName } from "./targets.js";

export interface Column {
  key: string;
  label: string;
  /** Decimal places in tables. */
  digits: number;
  better: "lower" | "higher";
  /** When set, the column is `key`'s value minus direct's in the same run: the cost the path adds. */
  addedOver?: string;
  /** Context, not a figure to compare (the load generator's CPU, a count): no ratio rows. */
  noRatio?: boolean;
}

export interface PathRun {
  path: PathName;
  run: number;
  metrics: Record<string, number>;
  /** Encoded latency histogram, when the scenario has one (for the chart). */
  histogram?: string;
  errors: string[];
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** One line on what was measured and how, printed above the table. */
  description: string;
  params: Record<string, number>;
  columns: Column[];
  runs: PathRun[];
  summary: Partial<Record<PathName, Record<string, Summary>>>;
  notMeasured: Partial<Record<PathName, string>>;
  seconds: number;
}

export interface ScenarioContext {
  system: System;
  options: RunOptions;
  log: (line: string) => void;
  /** Stops the system under test and starts it afresh (new Sluice, nginx and echo processes). */
  restartSystem: () => Promise<System>;
}

export interface Scenario<P extends Record<string, number> = Record<string, number>> {
  name: string;
  title: string;
  defaults: { full: P; quick: P };
  columns: Column[];
  describe(params: P): string;
  /** Most sessions this scenario holds at once (for descriptor checks and Sluice's caps). */
  maxSessions(params: P): number;
  job(path: PathName, params: P, ctx: ScenarioContext): Job;
  metrics(result: JobResult, path: PathName, params: P): { metrics: Record<string, number>; histogram?: string };
  /** How long one job may take before it is declared hung. */
  timeoutMs(params: P): number;
  /** Start every run on fresh processes: memory figures must not inherit a heap grown (or freed)
   * by an earlier scenario or run. */
  freshSystemPerRun?: boolean;
}

export function scenarioParams<P extends Record<string, number>>(scenario: Scenario<P>, options: RunOptions): P {
  const params = { ...(options.quick ? scenario.defaults.quick : scenario.defaults.full) } as Record<string, number>;
  for (const [key, value] of Object.entries(options.overrides)) {
    const [name, param] = key.split(".");
    if (name !== scenario.name) continue;
    if (!(param! in params)) throw new Error(`${scenario.name} has no parameter ${param} (it has ${Object.keys(params).join(", ")})`);
    if (!Number.isFinite(value)) throw new Error(`--${key} needs a number`);
    params[param!] = value;
  }
  return params as P;
}

export async function runScenario<P extends Record<string, number>>(scenario: Scenario<P>, ctx: ScenarioContext): Promise<ScenarioResult> {
  const params = scenarioParams(scenario, ctx.options);
  const t0 = Date.now();
  const paths = ctx.options.paths.filter((p) => ctx.system.targets[p] !== undefined);
  const notMeasured: Partial<Record<PathName, string>> = {};
  for (const p of ctx.options.paths) if (!ctx.system.targets[p]) notMeasured[p] = ctx.system.unavailable[p] ?? "not started";
  const runs: PathRun[] = [];
  ctx.log(`\n▶ ${scenario.title}: ${scenario.describe(params)}`);
  for (let run = 0; run < ctx.options.runs; run++) {
    if (scenario.freshSystemPerRun) ctx.system = await ctx.restartSystem();
    // Paths take turns, starting one further along each run, so slow drift on a shared machine
    // (thermal, neighbours) does not always land on the same path.
    const order = paths.map((_, i) => paths[(i + run) % paths.length]!);
    for (const path of order) {
      const job = scenario.job(path, params, ctx);
      let result: JobResult;
      try {
        result = await runLoad(job, { core: ctx.options.cores.load, nofile: ctx.system.nofile, timeoutMs: scenario.timeoutMs(params) });
      } catch (err) {
        ctx.log(`  run ${run + 1} ${path}: FAILED ${(err as Error).message}`);
        runs.push({ path, run, metrics: {}, errors: [(err as Error).message] });
        continue;
      }
      const { metrics, histogram } = scenario.metrics(result, path, params);
      // How much of the window each process spent waiting for its core: on a shared machine,
      // the part of a figure that is someone else's work.
      if ("waitSeconds" in result) {
        const w = result.waitSeconds;
        metrics.loadGeneratorWaitPct = (100 * (w.loadGenerator ?? 0)) / result.wallSeconds;
        const role = proxyRole(path);
        if (role && w[role] !== undefined) metrics.proxyWaitPct = (100 * w[role]!) / result.wallSeconds;
        if (w.echo !== undefined) metrics.echoWaitPct = (100 * w.echo) / result.wallSeconds;
      }
      metrics.loadAverage1m = loadavg()[0]!;
      const errors = "errors" in result ? result.errors : [];
      runs.push({ path, run, metrics, histogram, errors });
      ctx.log(`  run ${run + 1} ${path.padEnd(6)} ${brief(metrics, scenario.columns)}${errors.length ? `  errors: ${errors.slice(0, 3).join("; ")}` : ""}`);
    }
  }
  addOverDirect(runs, scenario.columns);
  const summary: ScenarioResult["summary"] = {};
  for (const path of paths) {
    const mine = runs.filter((r) => r.path === path);
    const keys = new Set(mine.flatMap((r) => Object.keys(r.metrics)));
    const s: Record<string, Summary> = {};
    for (const key of keys) {
      const v = summarize(mine.map((r) => r.metrics[key] ?? NaN));
      if (v) s[key] = v;
    }
    summary[path] = s;
  }
  return {
    name: scenario.name,
    title: scenario.title,
    description: scenario.describe(params),
    params,
    columns: scenario.columns,
    runs,
    summary,
    notMeasured,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** "Added" figures are paired per run (same run, same minute of machine time), then summarized. */
function addOverDirect(runs: PathRun[], columns: Column[]): void {
  for (const column of columns) {
    if (!column.addedOver) continue;
    for (const r of runs) {
      if (r.path === "direct") continue;
      const direct = runs.find((d) => d.path === "direct" && d.run === r.run);
      const base = direct?.metrics[column.addedOver];
      const mine = r.metrics[column.addedOver];
      if (base !== undefined && mine !== undefined) r.metrics[column.key] = mine - base;
    }
  }
}

function brief(metrics: Record<string, number>, columns: Column[]): string {
  return columns
    .filter((c) => !c.addedOver && metrics[c.key] !== undefined)
    .map((c) => `${c.label} ${metrics[c.key]!.toFixed(c.digits)}`)
    .join("  ");
}

/** The process in the middle of a path, whose cost the scenarios report; direct has none. */
export function proxyRole(path: PathName): "sluice" | "nginx" | undefined {
  return path === "direct" ? undefined : path;
}
