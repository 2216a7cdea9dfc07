// Where a V8 CPU profile (node --cpu-prof) spends its time: self time grouped by area (our
// modules, node internals, libraries, GC), the functions with the most self time, and the
// inclusive time of Sluice's own functions — enough to name the largest costs in BENCHMARKS.md.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The area a frame belongs to, from its script URL. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(idle)") return "idle";
    if (functionName === "(program)") return "V8/native (program)";
    // Native bindings: writeBuffer/writev are the socket write system calls, one per call from JS.
    return `native: ${functionName || "(anonymous)"}${/^write/.test(functionName) ? " (socket writes)" : ""}`;
  }
  const src = /\/dist\/(src\/[^/]+|models\/[^/]+)\//.exec(url);
  if (src) return `sluice ${src[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `package ${pkg[1]}`;
  if (url.startsWith("node:internal/")) return `node ${url.slice("node:internal/".length).split("/")[0]}`;
  if (url.startsWith("node:")) return `node ${url.slice(5)}`;
  return url;
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(dist|node_modules)\//, "$1/").replace(/^file:\/\//, "");
  return `${frame.functionName || "(anonymous)"} ${file ? `${file}:${frame.lineNumber + 1}` : ""}`.trim();
}

export function summarizeProfile(profile: CpuProfile, name: string, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const area = areaOf(node.callFrame);
    if (area === "idle") {
      idle += us;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = label(node.callFrame);
    functions.set(key, (functions.get(key) ?? 0) + us);
    // Inclusive time of Sluice's own functions: each sample counts once for every distinct frame of ours on its stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!/\/dist\/src\//.test(f.url)) continue;
      const k = label(f);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  // Who made the native calls with the most self time (socket writes above all): the nearest
  // frame of Sluice's own code on the stack, which is what a fix would change.
  const nativeTop = sorted(functions).filter(([k]) => !k.includes(" ") && !k.startsWith("(")).slice(0, 3).map(([k]) => k);
  const callers = new Map<string, Map<string, number>>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.url || !nativeTop.includes(f.functionName)) continue;
    let site = "(no Sluice frame)";
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (/\/dist\/src\//.test(cf.url)) {
        site = label(cf);
        break;
      }
    }
    const m = callers.get(f.functionName) ?? new Map<string, number>();
    m.set(site, (m.get(site) ?? 0) + us);
    callers.set(f.functionName, m);
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const lines = [
    `CPU profile ${name}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled (percentages are of busy time)`,
    "",
    "self time by area:",
    ...sorted(areas).slice(0, top).map(([k, v]) => `  ${pct(v)}  ${k}`),
    "",
    "top functions by self time:",
    ...sorted(functions).slice(0, top).map(([k, v]) => `  ${pct(v)}  ${k}`),
    "",
    "Sluice functions by inclusive time (self + what they call):",
    ...sorted(inclusive).slice(0, top).map(([k, v]) => `  ${pct(v)}  ${k}`),
    "",
    "native functions with the most self time, by the Sluice code that called them:",
    ...[...callers.entries()].flatMap(([fn, m]) => [`  ${fn}:`, ...sorted(m).slice(0, 4).map(([k, v]) => `    ${pct(v)}  ${k}`)]),
  ];
  return lines.join("\n") + "\n";
}
