// Makes images through the Docker Engine API only (import a root filesystem, build a context), so
// the same code builds on Podman's compat socket here and on a Docker engine elsewhere, and no
// registry is ever contacted.

import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import type Docker from "dockerode";

/** A directory as an uncompressed tar stream, owned by root, in a stable order (GNU tar). */
export function tarDirectory(dir: string): Readable {
  const tar = spawn("tar", ["--sort=name", "--numeric-owner", "--owner=0", "--group=0", "-C", dir, "-cf", "-", "."], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  tar.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  tar.on("close", (code) => {
    // The consumer sees a truncated tar as an engine error; make the real cause visible instead.
    if (code !== 0) tar.stdout.destroy(new Error(`tar -C ${dir} failed (${code}): ${stderr.trim()}`));
  });
  tar.on("error", (err) => tar.stdout.destroy(err));
  return tar.stdout;
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Reads an engine progress stream to its end. The engine reports build and import failures
 * inside a 200 response, so an `error` member is the only sign that something went wrong.
 */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (text: string) => void): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        if (err) return reject(err);
        const failed = events.find((e) => e.error !== undefined || e.errorDetail !== undefined);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? "the engine reported an error"));
        resolve(events);
      },
      (event: ProgressEvent) => {
        const text = event.stream ?? event.status;
        if (text && onLine) onLine(text.replace(/\n$/, ""));
      },
    );
  });
}

export interface ImportOptions {
  /** Dockerfile-style changes applied at import, e.g. `ENV PATH=/usr/bin`. */
  changes?: string[];
  onLine?: (text: string) => void;
}

/** Imports a staged root filesystem as `<repo>:<tag>`; resolves to the image id. */
export async function importRootfs(docker: Docker, root: string, reference: string, options: ImportOptions = {}): Promise<string> {
  // `repo` carrying the tag is what the Engine API documents; Podman ignores a separate `tag`.
  const query: Record<string, unknown> = { repo: reference };
  if (options.changes?.length) query.changes = options.changes;
  const stream = await docker.importImage(tarDirectory(root), query);
  await followProgress(docker, stream, options.onLine);
  const info = await docker.getImage(reference).inspect();
  return info.Id;
}

export interface BuildOptions {
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  onLine?: (text: string) => void;
}

/** Builds `contextDir` (holding a Dockerfile) as `reference`; resolves to the image id. */
export async function buildContext(docker: Docker, contextDir: string, reference: string, options: BuildOptions = {}): Promise<string> {
  // `pull` stays unset: base images exist locally or the build fails saying so. Unset options
  // must be left out, not sent empty: Podman rejects `labels=` with a bare 400.
  const query: Docker.ImageBuildOptions = { t: reference, rm: true, forcerm: true };
  if (options.buildArgs) query.buildargs = options.buildArgs;
  if (options.labels) query.labels = options.labels;
  const stream = await docker.buildImage(tarDirectory(contextDir), query);
  await followProgress(docker, stream, options.onLine);
  const info = await docker.getImage(reference).inspect();
  return info.Id;
}
