// Reading a process's CPU time and memory from /proc, so the cost of the system under test is
// measured by the kernel's accounting rather than by anything the process reports about itself.

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second for utime/stime in /proc/<pid>/stat (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND: number = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process, all its threads included (Node's libuv pool too). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses; fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]); // field 14 overall
  const stime = Number(fields[12]); // field 15 overall
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size in bytes (VmRSS), what the process costs in RAM right now. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid} (exited, or a kernel thread?)`);
  return Number(match[1]) * 1024;
}

/** Direct children of a process (nginx's workers under its master), from the ppid field of every /proc/<pid>/stat. */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) out.push(Number(name));
    } catch {
      // The process exited while we listed /proc.
    }
  }
  return out;
}

/** The soft and hard RLIMIT_NOFILE of a process. */
export function openFileLimit(pid: number | "self" = "self"): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (v: string | undefined) => (v === undefined || v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v));
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

/** A snapshot of several processes' CPU seconds, keyed by the caller's names. */
export function cpuSnapshot(pids: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(pids)) out[name] = list.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return out;
}

export function rssSnapshot(pids: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(pids)) out[name] = list.reduce((sum, pid) => sum + rssBytes(pid), 0);
  return out;
}

export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) out[name] = after[name]! - (before[name] ?? 0);
  return out;
}

/** Seconds a process's threads spent runnable but waiting for a CPU (field 2 of each thread's
 * /proc/<pid>/task/<tid>/schedstat): time the core was taken by someone else — on a shared
 * machine, by other people's work. */
export function runQueueWaitSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
    } catch {
      // The thread ended while we listed them.
    }
  }
  return ns / 1e9;
}

export function waitSnapshot(pids: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(pids)) out[name] = list.reduce((sum, pid) => sum + runQueueWaitSeconds(pid), 0);
  out.loadGenerator = runQueueWaitSeconds(process.pid);
  return out;
}
