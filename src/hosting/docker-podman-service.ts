// A private `podman system service` on a socket of its own: the engine for the image build
// command when no DOCKER_HOST is set, and for the tests. It lives exactly as long as its owner.

import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import type Docker from "dockerode";
import { dockerClient } from "./docker-connection.js";

export interface PodmanService {
  socketPath: string;
  docker: Docker;
  /** What the service wrote, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the socket directory. */
  stop(graceMs?: number): Promise<void>;
}

export interface PodmanServiceOptions {
  /** Where the socket goes; a fresh temporary directory by default. */
  dir?: string;
  /** How long to wait for the socket to answer a ping. */
  readyTimeoutMs?: number;
  podmanPath?: string;
}

export async function startPodmanService(options: PodmanServiceOptions = {}): Promise<PodmanService> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await fs.mkdtemp(join(tmpdir(), "sluice-podman-")));
  const socketPath = join(dir, "podman.sock");
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  // --time=0: never exit on idle; the owner stops it.
  const child = spawn(options.podmanPath ?? "podman", ["system", "service", "--time=0", `unix://${socketPath}`], {
    stdio: ["ignore", "pipe", "pipe"],
    // conmon (2.1.6) writes an `oom` marker into its working directory when a container is
    // OOM-killed; here that directory goes away with the service rather than litter the caller's.
    cwd: dir,
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-16_384);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = once(child, "exit").then(() => undefined, () => undefined);
  const spawnError = new Promise<never>((_, reject) => child.once("error", reject));

  const docker = dockerClient({ socketPath });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    if (ownDir) await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await Promise.race([waitForPing(docker, readyTimeoutMs, () => child.exitCode !== null), spawnError]);
  } catch (err) {
    await stop(1_000);
    throw new Error(`podman system service did not come up on ${socketPath}: ${(err as Error).message}\n${output.trim()}`, { cause: err });
  }
  return { socketPath, docker, output: () => output, stop };
}

/** Resolves once the engine answers `/_ping`; rejects after `timeoutMs` or when `gone()`. */
export async function waitForPing(docker: Docker, timeoutMs: number, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (gone()) throw new Error("the service exited");
    try {
      await docker.ping();
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
