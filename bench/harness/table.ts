// Tables for the terminal and for BENCHMARKS.md, from the same cells: each figure is the median
// of the runs with [min–max] beside it, then the ratios sluice ÷ direct and sluice ÷ nginx.

import type { ScenarioResult } from "./scenario.js";
import type { Summary } from "./stats.js";
import { ALL_PATHS, type PathName } from "./targets.js";

function fmt(v: number, digits: number): string {
  if (!Number.isFinite(v)) return "—";
  return v.toFixed(digits);
}

function cell(s: Summary | undefined, digits: number): string {
  if (!s) return "—";
  if (s.runs.length < 2) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;
}

function ratio(a: Summary | undefined, b: Summary | undefined): string {
  // A ratio to zero or a negative figure (an "added" cost lost in run-to-run noise) means nothing.
  if (!a || !b || b.median <= 0 || a.median < 0) return "—";
  const r = a.median / b.median;
  if (!Number.isFinite(r)) return "—";
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

export function tableRows(result: ScenarioResult): string[][] {
  const header = ["path", ...result.columns.map((c) => c.label)];
  const rows: string[][] = [header];
  const paths = ALL_PATHS.filter((p) => result.summary[p] !== undefined);
  for (const path of paths) rows.push([path, ...result.columns.map((c) => cell(result.summary[path]![c.key], c.digits))]);
  for (const [name, path] of Object.entries(result.notMeasured) as [PathName, string][]) {
    rows.push([name, ...result.columns.map((_, i) => (i === 0 ? `not measured: ${path.split("\n")[0]!.slice(0, 80)}` : ""))]);
  }
  const sluice = result.summary.sluice;
  if (sluice) {
    for (const other of ["direct", "nginx"] as const) {
      const base = result.summary[other];
      if (!base) continue;
      rows.push([`sluice ÷ ${other}`, ...result.columns.map((c) => ((c.addedOver && other === "direct") || c.noRatio ? "—" : ratio(sluice[c.key], base[c.key])))]);
    }
  }
  return rows;
}

export function textTable(result: ScenarioResult): string {
  const rows = tableRows(result);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [`${result.title} — ${result.description}`, line(rows[0]!), widths.map((w) => "─".repeat(w)).join("  ")];
  for (const r of rows.slice(1)) out.push(line(r));
  for (const note of tableNotes(result)) out.push(`note: ${note}`);
  return out.join("\n");
}

export function markdownTable(result: ScenarioResult): string {
  const rows = tableRows(result);
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const out = [`| ${rows[0]!.map(esc).join(" | ")} |`, `|${rows[0]!.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const r of rows.slice(1)) out.push(`| ${r.map(esc).join(" | ")} |`);
  return out.join("\n");
}

/** Where a figure measures something other than the path: a saturated load generator or proxy,
 * lost messages, errors. Printed under the table so nobody reads those cells as the path's cost. */
export function tableNotes(result: ScenarioResult): string[] {
  const notes: string[] = [];
  for (const path of ALL_PATHS) {
    const s = result.summary[path];
    if (!s) continue;
    const gen = s.loadGeneratorCpuPct?.median;
    if (gen !== undefined && gen > 85) {
      notes.push(`on ${path} the load generator used ${gen.toFixed(0)}% of its core: it, not only the path, limited these figures (its queueing counts as latency).`);
    }
    // Running plus waiting to run close to the whole window means the proxy never idled: it was
    // the bottleneck, whether its core went to its own work or to the echo and other processes.
    const proxy = s.proxyCpuPct?.median;
    const proxyWait = s.proxyWaitPct?.median ?? 0;
    if (proxy !== undefined && proxy + proxyWait > 85) {
      notes.push(`on ${path} the proxy was running ${proxy.toFixed(0)}% and waiting for its core ${proxyWait.toFixed(0)}% of the time: it never idled, so it set the pace.`);
    }
    const waits = (["proxyWaitPct", "echoWaitPct", "loadGeneratorWaitPct"] as const)
      .map((k) => [k.replace("WaitPct", "").replace("loadGenerator", "load generator"), s[k]?.median] as const)
      .filter(([, v]) => v !== undefined && v > 5);
    if (waits.length > 0) {
      notes.push(
        `on ${path} processes were runnable but waiting for their core ${waits.map(([k, v]) => `${k} ${v!.toFixed(0)}%`).join(", ")} of the time ` +
          `(/proc schedstat; the proxy and the echo share the system core by design, the rest is other work on the machine): these figures include that wait.`,
      );
    }
    const lost = s.lost?.max;
    if (lost !== undefined && lost > 0) notes.push(`on ${path} up to ${lost} messages per run got no echo within the drain time (counted, not timed).`);
    const errors = result.runs.filter((r) => r.path === path).flatMap((r) => r.errors);
    if (errors.length > 0) notes.push(`on ${path}: ${[...new Set(errors)].slice(0, 3).join("; ")}`);
  }
  return notes;
}
