// Starting and stopping the processes a benchmark needs, each pinned to a core with taskset so
// the load generator and the system under test never compete for the same CPU.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, createWriteStream, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root, from dist/bench/harness/ or bench/harness/ (tests run the .ts under tsx). */
export const REPO_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${"/dist/"}`) ? "../../.." : "../..";
  return resolve(here, up);
})();

/** dist/ holds what the product runs; benchmarks measure the compiled JavaScript, never tsx. */
export const DIST = join(REPO_ROOT, "dist");

export interface Cores {
  /** Where the load generator runs. */
  load: number;
  /** Where Sluice, nginx and the echo instance run. */
  system: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  core: number | undefined;
  env?: NodeJS.ProcessEnv;
  /** Raise RLIMIT_NOFILE for this process (through prlimit) when the current soft limit is lower. */
  nofile?: number;
  logDir: string;
  cwd?: string;
}

/** Spawns `taskset -c CORE [prlimit --nofile=N:N] command args`; exec keeps the pid, so the pid we hold is the server's. */
export function startProcess(options: StartOptions): ManagedProcess & { firstLine: Promise<string> } {
  const argv: string[] = [];
  if (options.core !== undefined) argv.push("taskset", "-c", String(options.core));
  if (options.nofile !== undefined) argv.push("prlimit", `--nofile=${options.nofile}:${options.nofile}`);
  argv.push(options.command, ...options.args);
  const logFile = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  // stderr (where Sluice's JSON logs go) is a file of its own, written by the child directly,
  // so no log line crosses the load generator's core on its way to disk.
  const stderrFd = openSync(`${logFile}.stderr`, "a");
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", stderrFd],
  });
  closeSync(stderrFd);
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
    child.once("error", () => resolveExit(-1));
  });
  // The first stdout line is where servers announce their URL; the rest goes to the log.
  const firstLine = new Promise<string>((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let first = true;
    lines.on("line", (line) => {
      if (first) {
        first = false;
        resolveLine(line);
      }
      log.write(`${line}\n`);
    });
    void exited.then((code) => {
      if (first) reject(new Error(`${options.name} exited (code ${code}) before printing a line; see ${logFile}`));
    });
  });
  firstLine.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid,
    child,
    logFile,
    exited,
    firstLine,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** A temporary directory removed by `cleanup` (kept when BENCH_KEEP_TMP is set, to read logs). */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    path,
    cleanup: () => {
      if (!process.env.BENCH_KEEP_TMP) rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` with `what` in the message. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves when an HTTP GET of `url` answers 200. */
export function waitForHttp(url: string, timeoutMs = 20_000): Promise<true> {
  return waitFor(url, timeoutMs, async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status === 200 ? true : undefined;
  });
}

export async function onceExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, "exit");
}
