// Starts the real, compiled `sluice serve` as a child process on 127.0.0.1 with a free port and
// a temporary data dir, as a user would run it; tests talk to it only over the network.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const SLUICE_BIN = join(REPO_ROOT, "dist", "src", "cli", "main.js");

export const TEST_KEY = { accessKeyId: "AKSLTESTKEY0000000001", secretAccessKey: "test-secret-key-for-sluice-tests-000000000" };

export interface SluiceProcess {
  url: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Sends the signal and waits for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops (if running) and removes the data dir unless `keepData`. */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  keepData?: boolean;
  /** Use the shared test key (default true). */
  withTestKey?: boolean;
}

/** Short timings so tests wait for events, not for production defaults. */
export const FAST_SETTINGS = [
  "--instance-stop-grace", "3s",
  "--probe-interval", "500ms",
  "--instance-start-timeout", "30s",
  "--close-grace", "2s",
  "--drain-deadline", "5s",
];

export async function startSluice(options: StartOptions = {}): Promise<SluiceProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sluice-test-"));
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.SLUICE_PORT;
  if (options.withTestKey !== false) {
    env.SLUICE_ACCESS_KEY_ID = TEST_KEY.accessKeyId;
    env.SLUICE_SECRET_ACCESS_KEY = TEST_KEY.secretAccessKey;
  }
  const proc = spawn(
    process.execPath,
    [SLUICE_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--log-level", process.env.SLUICE_TEST_LOG_LEVEL ?? "warn", ...FAST_SETTINGS, ...(options.args ?? [])],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onExit = (code: number | null) => reject(new Error(`sluice exited (${code}) before printing its URL:\n${out}`));
    proc.once("exit", onExit);
    // One listener for every line: readline emits the lines of one chunk synchronously, so a
    // listener attached after the URL resolved would miss the banner that came with it.
    let first = true;
    lines.on("line", (line) => {
      if (!first) {
        out += line + "\n";
        return;
      }
      first = false;
      proc.off("exit", onExit);
      resolveUrl(line.trim());
    });
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  let stopped = false;
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    stopped = true;
    return exited;
  };
  return {
    url,
    dataDir,
    proc,
    output: () => out,
    stop,
    cleanup: async () => {
      if (!stopped || (proc.exitCode === null && proc.signalCode === null)) await stop();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined; `what` names it in the timeout error. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, capMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + capMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
