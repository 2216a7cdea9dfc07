// One running local process behind the `Instance` handle. The instance is its process group:
// signals go to the whole group, so a model that forks workers (or a shell wrapper) is stopped
// as a unit, and whatever is left of the group when its leader exits is killed with it.

import type { ChildProcess } from "node:child_process";
import { appendFile } from "node:fs/promises";
import type { Instance, InstanceExit } from "./host.js";

export interface ProcessInstanceInit {
  instanceId: string;
  child: ChildProcess;
  pid: number;
  port: number;
  startedAt: Date;
  startTimeMs?: number;
  logFile: string;
}

export class ProcessInstance implements Instance {
  readonly instanceId: string;
  readonly pid: number;
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly startedAt: Date;
  readonly startTimeMs?: number;
  readonly logFile: string;
  readonly exited: Promise<InstanceExit>;
  private exit: InstanceExit | undefined;
  private terminating = false;

  constructor(init: ProcessInstanceInit) {
    this.instanceId = init.instanceId;
    this.pid = init.pid;
    this.port = init.port;
    this.startedAt = init.startedAt;
    this.startTimeMs = init.startTimeMs;
    this.logFile = init.logFile;
    this.exited = new Promise((resolve) => {
      init.child.once("exit", (code, signal) => {
        const exit: InstanceExit = { code, signal };
        this.exit = exit;
        // The leader is gone, so the instance is. Stragglers in its group (workers, a server a
        // wrapper script started) would otherwise hold the port and memory as orphans. The group
        // id cannot be reused while any member lives, so this reaches only them.
        try {
          signalGroup(this.pid, "SIGKILL");
        } catch {
          // EPERM: the id now names a group we may not signal, so none of ours is left in it.
        }
        appendFile(this.logFile, `[sluice] ${new Date().toISOString()} instance ${this.instanceId} ${describeExit(exit)}\n`)
          .catch(() => undefined) // the log's directory may be gone with its endpoint; the exit still counts
          .finally(() => resolve(exit));
      });
    });
    // ChildProcess emits "error" when a signal cannot be delivered; the exit is what matters.
    init.child.on("error", () => undefined);
  }

  /** Whether the process has exited (its `exited` may still be settling). */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  stop(graceMs: number): Promise<InstanceExit> {
    if (this.exit !== undefined) return this.exited;
    // Once is enough: some servers (uvicorn, gunicorn) take a second SIGTERM as "quit now".
    if (!this.terminating) signalGroup(this.pid, "SIGTERM");
    this.terminating = true;
    const escalate = setTimeout(() => signalGroup(this.pid, "SIGKILL"), graceMs);
    // A Sluice shutting down should not wait on this timer once the instance is gone.
    escalate.unref();
    void this.exited.then(() => clearTimeout(escalate));
    return this.exited;
  }

  kill(): void {
    if (this.exit === undefined) signalGroup(this.pid, "SIGKILL");
  }
}

/** Signals a process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

export function describeExit(exit: InstanceExit): string {
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
