// The latency distribution chart for BENCHMARKS.md: round-trip time against percentile, one line
// per path, on the usual HDR axis (x = 1/(1-p), log scale) so the tail is as visible as the median,
// and a log time axis, so a path that queues for seconds and one that answers in 100 µs both read.
// Hand-written SVG: no plotting dependency, and the file diffs cleanly in review.

import type { Histogram } from "./histogram.js";

const COLORS: Record<string, string> = { direct: "#2b8a3e", nginx: "#1971c2", sluice: "#e8590c" };
const PERCENTILES = (() => {
  const out: number[] = [];
  for (let x = 0; x <= 5; x += 0.05) out.push(100 * (1 - 10 ** -x)); // 0 … 99.999
  return out;
})();

export function latencyChart(title: string, series: { name: string; histogram: Histogram }[]): string {
  const W = 760;
  const H = 420;
  const m = { left: 70, right: 140, top: 40, bottom: 60 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const points = series.map((s) => ({
    name: s.name,
    values: PERCENTILES.filter((p) => p <= maxPercentile(s.histogram.totalCount)).map((p) => ({ p, ms: s.histogram.getValueAtPercentile(p) / 1000 })),
  }));
  const all = points.flatMap((s) => s.values.map((v) => v.ms)).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.max(0.001, Math.min(1, ...all))));
  const hi = Math.ceil(Math.log10(Math.max(0.01, ...all)));
  const xMax = 5;
  const x = (p: number) => m.left + (Math.min(xMax, -Math.log10(1 - p / 100)) / xMax) * pw;
  const y = (ms: number) => m.top + ph - ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (const [label, p] of [["0%", 0], ["90%", 90], ["99%", 99], ["99.9%", 99.9], ["99.99%", 99.99], ["99.999%", 99.999]] as const) {
    const xx = x(p);
    parts.push(`<line x1="${xx}" y1="${m.top}" x2="${xx}" y2="${m.top + ph}" stroke="#ddd"/>`);
    parts.push(`<text x="${xx}" y="${m.top + ph + 18}" text-anchor="middle">${label}</text>`);
  }
  for (let e = lo; e <= hi; e++) {
    for (const k of [1, 2, 5]) {
      const ms = k * 10 ** e;
      if (e === hi && k > 1) continue;
      const yy = y(ms);
      parts.push(`<line x1="${m.left}" y1="${yy}" x2="${m.left + pw}" y2="${yy}" stroke="${k === 1 ? "#ddd" : "#f3f3f3"}"/>`);
      parts.push(`<text x="${m.left - 8}" y="${yy + 4}" text-anchor="end">${trim(ms)}</text>`);
    }
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 18}" text-anchor="middle">percentile</text>`);
  parts.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">round trip, ms (log scale)</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  points.forEach((s, i) => {
    const color = COLORS[s.name] ?? "#555";
    const d = s.values.map((v, k) => `${k === 0 ? "M" : "L"}${x(v.p).toFixed(1)},${y(v.ms).toFixed(1)}`).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = m.top + 16 + i * 20;
    parts.push(`<line x1="${m.left + pw + 14}" y1="${ly - 4}" x2="${m.left + pw + 38}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${m.left + pw + 44}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}

/** Beyond 1/count the percentile is just the maximum repeated; stop the line there. */
function maxPercentile(count: number): number {
  if (count <= 1) return 0;
  return 100 * (1 - 1 / count);
}

function trim(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
