// One running container behind the `Instance` handle: follows its exit through the wait API,
// copies its output into the instance's log file, and removes the container once it has gone
// (however it went: stop, kill, crash, `podman kill` from outside), so no dead container is left.

import { once } from "node:events";
import { appendFile } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import type { Instance, InstanceExit } from "./host.js";
import { LogDemux } from "./docker-log-demux.js";
import { describeExit } from "./process-instance.js";

export interface ContainerInstanceOptions {
  container: Docker.Container;
  instanceId: string;
  containerId: string;
  host: string;
  port: number;
  pid?: number;
  startedAt: Date;
  logFile: string;
  /** The image's StopSignal (SIGTERM unless the image says otherwise), what `stop` sends first. */
  stopSignal: string;
  /** How long to wait, after the container stopped, for the last of its output to be copied. */
  logDrainTimeoutMs: number;
  /** Longest pause between attempts to re-attach to the wait API after it failed. */
  waitRetryMaxMs: number;
  /**
   * How long the engine may stay unreachable before the instance counts as gone (exit unknown):
   * Sluice must be able to shut down and replace instances without the engine. A container that
   * in fact kept running is a leftover, removed by label at the next start.
   */
  engineLostTimeoutMs: number;
  /** Problems that have no caller to throw to (log copy, removal, a failed signal). */
  onError: (err: unknown, what: string) => void;
}

export class ContainerInstance implements Instance {
  readonly instanceId: string;
  readonly containerId: string;
  readonly pid?: number;
  readonly host: string;
  readonly port: number;
  readonly startedAt: Date;
  readonly logFile: string;
  readonly exited: Promise<InstanceExit>;

  private readonly container: Docker.Container;
  private readonly options: ContainerInstanceOptions;
  private gone = false;
  private stopping?: Promise<InstanceExit>;
  /** Aborts the pending wait request, to ask the engine afresh. */
  private waitAbort?: AbortController;

  constructor(options: ContainerInstanceOptions) {
    // A reporter that throws must not turn into a rejected `exited`.
    const report = options.onError;
    this.options = {
      ...options,
      onError: (err, what) => {
        try {
          report(err, what);
        } catch {
          // Nothing left to tell.
        }
      },
    };
    this.container = options.container;
    this.instanceId = options.instanceId;
    this.containerId = options.containerId;
    this.pid = options.pid;
    this.host = options.host;
    this.port = options.port;
    this.startedAt = options.startedAt;
    this.logFile = options.logFile;
    const logsCopied = this.copyLogs();
    this.exited = this.followExit(logsCopied);
  }

  stop(graceMs: number): Promise<InstanceExit> {
    this.stopping ??= (async () => {
      if (!this.gone) {
        await this.signal(this.options.stopSignal);
        const timer = setTimeout(() => void this.signal("SIGKILL"), Math.max(0, graceMs));
        try {
          await this.exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return this.exited;
    })();
    return this.stopping;
  }

  kill(): void {
    void this.signal("SIGKILL");
  }

  private async signal(signal: string): Promise<void> {
    if (this.gone) return;
    try {
      await this.container.kill({ signal });
    } catch (err) {
      // Not running (any more) or already removed: what the signal was for has happened.
      if (this.gone || isGoneError(err)) return;
      this.options.onError(err, `sending ${signal} to container ${this.containerId}`);
    }
  }

  private async copyLogs(): Promise<void> {
    const file = createWriteStream(this.logFile, { flags: "a" });
    try {
      await once(file, "open");
      // follow: everything from the container's first line, then new lines until it stops.
      const stream = (await this.container.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
      await pipeline(stream, new LogDemux(), file);
      // The log ends when the container stops, so the wait should answer soon.
      this.recheckWaitAfter(this.options.logDrainTimeoutMs);
    } catch (err) {
      file.destroy();
      if (isGoneError(err)) return;
      this.options.onError(err, `copying the output of container ${this.containerId} to ${this.logFile}`);
      // Most often the engine went away: the wait request on the same engine may be stuck.
      this.recheckWaitAfter(0);
    }
  }

  /**
   * A wait request whose connection breaks after the engine answered its headers is never
   * settled by dockerode (it listens for the end of the body only); Podman answers the headers at
   * once. So when the log stream says something happened, an unanswered wait is aborted after
   * `ms` and the engine asked again (waitForExit's retry path).
   */
  private recheckWaitAfter(ms: number): void {
    const timer = setTimeout(() => {
      if (!this.gone) this.waitAbort?.abort();
    }, ms);
    timer.unref();
  }

  private async followExit(logsCopied: Promise<void>): Promise<InstanceExit> {
    const code = await this.waitForExit();
    this.gone = true;
    // The log stream ends when the container stops; a cap keeps a stuck stream from holding the
    // exit back (what was copied stays in the file).
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([logsCopied, new Promise<void>((r) => (drainTimer = setTimeout(r, this.options.logDrainTimeoutMs)))]);
    clearTimeout(drainTimer);
    const state = await this.container.inspect().then((i) => i.State, () => undefined);
    const exit = exitFromStatus(code ?? state?.ExitCode ?? null);
    // As the process host does: the exit is the last line of the log, which a FailureReason quotes.
    const oom = state?.OOMKilled ? " after exceeding its memory limit" : "";
    await appendFile(this.logFile, `[sluice] ${new Date().toISOString()} instance ${this.instanceId} ${describeExit(exit)}${oom}\n`).catch(
      () => undefined, // the log's directory may be gone with its endpoint; the exit still counts
    );
    await this.container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (!isGoneError(err) && !isRemovalInProgress(err)) this.options.onError(err, `removing container ${this.containerId}`);
    });
    return exit;
  }

  /** The container's exit status through the wait API; null if it vanished without one. */
  private async waitForExit(): Promise<number | null> {
    let unreachableSince: number | undefined;
    for (let delay = 100; ; delay = Math.min(delay * 2, this.options.waitRetryMaxMs)) {
      try {
        const abort = (this.waitAbort = new AbortController());
        // Raced, not only passed on: once the response has begun, dockerode may never settle the
        // request whatever happens to its connection.
        const aborted = new Promise<never>((_, reject) =>
          abort.signal.addEventListener("abort", () => reject(new Error("the wait request was abandoned to ask the engine afresh")), { once: true }),
        );
        aborted.catch(() => undefined); // an abort after the wait answered is nobody's error
        const result = (await Promise.race([this.container.wait({ abortSignal: abort.signal }), aborted])) as { StatusCode?: number };
        return typeof result.StatusCode === "number" ? result.StatusCode : null;
      } catch (err) {
        // The wait connection broke (engine restarted, socket hiccup): ask for the state instead
        // of guessing, and wait again if the container is still running.
        if (isGoneError(err)) return null;
        const state = await this.container.inspect().then((i) => i.State, (e: unknown) => (isGoneError(e) ? null : undefined));
        if (state === null) return null;
        if (state !== undefined && !state.Running) return state.ExitCode;
        if (state === undefined) {
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince >= this.options.engineLostTimeoutMs) {
            this.options.onError(err, `waiting for container ${this.containerId}: the engine has not answered for ${this.options.engineLostTimeoutMs} ms; counting the instance as gone`);
            return null;
          }
        } else {
          unreachableSince = undefined;
        }
        this.options.onError(err, `waiting for container ${this.containerId}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(delay, this.options.engineLostTimeoutMs)));
      }
    }
  }
}

/** Docker reports "killed by signal N" as status 128+N; say which signal, as for processes. */
export function exitFromStatus(status: number | null): InstanceExit {
  if (status !== null && status > 128 && status <= 128 + 64) {
    const signal = (Object.entries(osConstants.signals) as Array<[NodeJS.Signals, number]>).find(([, n]) => n === status - 128)?.[0];
    if (signal) return { code: null, signal };
  }
  return { code: status, signal: null };
}

export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/**
 * 404 (no such container), 409/304 (not running) and Podman's 500 "container state improper"
 * (its answer to killing a stopped container) all mean: nothing left to act on.
 */
export function isGoneError(err: unknown): boolean {
  const code = statusCodeOf(err);
  if (code === 404 || code === 409 || code === 304) return true;
  return code === 500 && /container state improper|is not running|can only kill running/i.test(String((err as Error)?.message));
}

function isRemovalInProgress(err: unknown): boolean {
  return /removal.*in progress|being removed/i.test(String((err as Error)?.message));
}
