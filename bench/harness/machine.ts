// What the numbers were measured on, printed and saved with them: a figure without its machine
// cannot be compared with anything.

import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem, release, hostname } from "node:os";
import { nginxVersion } from "./nginx.js";
import { openFileLimit } from "./proc.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  nginx: string;
  loadAverageAtStart: number[];
  openFileLimit: { soft: number; hard: number };
  host: string;
  /** Whether other work was running when the run started (1-minute load average above 0.5). */
  busy: boolean;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  let model = cpu[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) model = m[1]!.trim();
  } catch {
    // Not Linux: os.cpus() is what there is.
  }
  const load = loadavg().map((l) => Math.round(l * 100) / 100);
  return {
    cpuModel: model,
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    nginx: nginxVersion(),
    loadAverageAtStart: load,
    openFileLimit: openFileLimit(),
    host: hostname(),
    busy: (load[0] ?? 0) > 0.5,
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `machine: ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, nginx ${m.nginx}, ` +
    `open files ${m.openFileLimit.soft}/${m.openFileLimit.hard}, load average at start ${m.loadAverageAtStart.join(" ")}` +
    (m.busy ? " (other work was running: spreads are wider than on an idle machine)" : "")
  );
}
