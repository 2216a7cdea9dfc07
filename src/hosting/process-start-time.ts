// A process's start time from the kernel, so a later run of Sluice can tell "our leftover
// instance" from "an unrelated process that happens to have the recycled pid" (DESIGN §3).
// Linux only: /proc/<pid>/stat field 22 is the start time in clock ticks since boot, and
// /proc/stat's `btime` is the boot time in epoch seconds.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let clockTicks: number | undefined;
let bootTimeMs: number | undefined;

/** Epoch ms the process started, or undefined if it is gone (or this is not Linux). */
export function processStartTimeMs(pid: number): number | undefined {
  const stat = readProcStat(pid);
  if (stat === undefined) return undefined;
  const boot = readBootTimeMs();
  if (boot === undefined) return undefined;
  return boot + Math.round((stat.startTicks * 1000) / readClockTicks());
}

export interface ProcStat {
  state: string;
  pgrp: number;
  startTicks: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses,
  // so fields are counted from the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const pgrp = Number(rest[2]); // field 5
  const startTicks = Number(rest[19]); // field 22
  if (state === undefined || !Number.isFinite(pgrp) || !Number.isFinite(startTicks)) return undefined;
  return { state, pgrp, startTicks };
}

/** Alive in the sense that matters here: present and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  if (stat !== undefined) return stat.state !== "Z";
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readBootTimeMs(): number | undefined {
  if (bootTimeMs !== undefined) return bootTimeMs;
  try {
    const line = readFileSync("/proc/stat", "utf8")
      .split("\n")
      .find((l) => l.startsWith("btime "));
    if (line === undefined) return undefined;
    bootTimeMs = Number(line.slice("btime ".length)) * 1000;
    return bootTimeMs;
  } catch {
    return undefined;
  }
}

function readClockTicks(): number {
  if (clockTicks !== undefined) return clockTicks;
  try {
    clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  } catch {
    clockTicks = Number.NaN;
  }
  // USER_HZ is 100 on every mainstream Linux build; only trust getconf if it answers sensibly.
  if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  return clockTicks;
}
