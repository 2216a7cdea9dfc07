// Whether a process group is the one listening on a port. A plain TCP connect is not enough to
// tell that an instance has bound its port: when the port was taken meanwhile, the connect
// reaches the other listener while our instance is about to die with EADDRINUSE. So this looks
// at the kernel's socket tables and at the file descriptors of the group's processes (Linux).

import { readFile, readdir, readlink } from "node:fs/promises";
import { readProcStat } from "./process-start-time.js";

const TCP_LISTEN = "0A";

/**
 * true: a process of group `pgid` listens on `port`; false: none does (yet);
 * undefined: this system does not expose the tables (not Linux, /proc hidden).
 */
export async function groupListensOn(pgid: number, port: number): Promise<boolean | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes === undefined) return undefined;
  if (inodes.size === 0) return false;
  // The leader usually holds the socket itself; only look for the rest of the group if not.
  if (await holdsSocket(pgid, inodes)) return true;
  for (const pid of await otherGroupMembers(pgid)) {
    if (await holdsSocket(pid, inodes)) return true;
  }
  return false;
}

async function holdsSocket(pid: number, inodes: Set<string>): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // exited meanwhile, or not ours to look at
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match !== null && inodes.has(match[1])) return true;
  }
  return false;
}

/** Inodes of the sockets in LISTEN state on `port`, over IPv4 and IPv6. */
async function listeningInodes(port: number): Promise<Set<string> | undefined> {
  const inodes = new Set<string>();
  let readable = false;
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await readFile(table, "utf8");
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
      if (fields[1].endsWith(`:${portHex}`)) inodes.add(fields[9]);
    }
  }
  return readable ? inodes : undefined;
}

async function otherGroupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return members;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== pgid && readProcStat(pid)?.pgrp === pgid) members.push(pid);
  }
  return members;
}
