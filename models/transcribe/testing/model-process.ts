// Runs the transcribe model as the real process it is in production (main.ts serve) on
// 127.0.0.1 and an ephemeral port, for tests and the benchmark.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export interface ModelProcess {
  port: number;
  child: ChildProcess;
  /** Log lines seen so far (parsed pino JSON). */
  logs: Record<string, unknown>[];
  /** Resolves with the first log entry whose msg is `msg` (already logged or yet to come). */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts main.ts (under tsx, as tests run TypeScript) or a compiled main.js when `entry` says
 * so. Resolves once the process logs "model server listening"; rejects if it exits first or after `capMs`.
 */
export async function startModel(env: Record<string, string>, opts: { entry?: string; capMs?: number } = {}): Promise<ModelProcess> {
  const entry = opts.entry ?? fileURLToPath(new URL("../main.ts", import.meta.url));
  const args = entry.endsWith(".ts") ? ["--import", "tsx", entry, "serve"] : [entry, "serve"];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SAGEMAKER_BIND_TO_PORT: "0", SLUICE_BIND_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const logWaiters: (() => void)[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model did not start within ${opts.capMs ?? 60000} ms: ${stderr}`)), opts.capMs ?? 60000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const w of logWaiters.splice(0)) w();
        if (entry.msg === "model server listening") {
          clearTimeout(timer);
          resolve(entry.port as number);
        }
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`model exited with ${code} before listening: ${stderr}`));
    });
  });
  return {
    port,
    child,
    logs,
    async waitForLog(msg) {
      for (;;) {
        const found = logs.find((l) => l.msg === msg);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`model exited without logging "${msg}"`);
        await new Promise<void>((resolve) => logWaiters.push(resolve));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}
