// The parent's side of the load generator: spawn it pinned to the load core, hand it one job,
// wait for its result.

import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Job, JobResult } from "./jobs.js";
import { DIST } from "./processes.js";

export interface LoadOptions {
  core: number | undefined;
  /** RLIMIT_NOFILE the generator needs (one descriptor per WebSocket session). */
  nofile: number;
  timeoutMs: number;
}

export function runLoad<R extends JobResult>(job: Job, options: LoadOptions): Promise<R> {
  const argv: string[] = [];
  if (options.core !== undefined) argv.push("taskset", "-c", String(options.core));
  argv.push("prlimit", `--nofile=${options.nofile}:${options.nofile}`);
  // A larger young generation: the generator allocates a little per message and should not
  // spend its core in scavenges that would look like path latency.
  // BENCH_LOADGEN_PROFILE_DIR: profile the load generator itself, to check that it is not what limits a path.
  const profile = process.env.BENCH_LOADGEN_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_LOADGEN_PROFILE_DIR}`] : [];
  argv.push(process.execPath, "--max-semi-space-size=32", ...profile, join(DIST, "bench/harness/load-generator.js"));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new Error(`the load generator did not finish the ${job.kind} job on ${job.target.path} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const finish = (err: Error | undefined, result?: R) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    };
    child.once("message", (message: { ok: boolean; result?: R; error?: string }) => {
      if (message.ok) finish(undefined, message.result);
      else finish(new Error(`load generator failed on ${job.target.path}: ${message.error}`));
    });
    child.once("exit", (code, signal) => finish(new Error(`the load generator exited (${code ?? signal}) without a result`)));
    child.once("error", (err) => finish(err));
    child.send(job);
  });
}
