// The images Sluice ships recipes for, and how to build them on a local engine without any
// registry: base images are root filesystems staged from this machine's own files (see
// docker-rootfs.ts) and imported; model images are ordinary Dockerfiles built on top of them.
//
//   localhost/sluice-node-base:<v>    the Node binary running this build + its libraries
//   localhost/sluice-speech-base:<v>  the same + pocketsphinx, sphinxbase, soxr and the en-us model
//   localhost/sluice-python-base:<v>  /usr/bin/python3 + its standard library + python3-websockets
//   localhost/sluice-echo:<v>         models/echo/Dockerfile
//   localhost/sluice-transcribe:<v>   models/transcribe/Dockerfile
//   localhost/sluice-byoc-python:<v>  examples/byoc-python/Dockerfile
//
// <v> is package.json's version. A base image records a key of what it was made from (the spec,
// the Node version, the Debian package versions), so rebuilding skips bases that are current.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { BIDI_CAPABILITY_LABEL } from "./host.js";
import { buildContext, importRootfs } from "./docker-image-build.js";
import { copyClosure, nodeClosure } from "./docker-node-closure.js";
import { stageRootfs, type RootfsSpec } from "./docker-rootfs.js";

const run = promisify(execFile);

export const BASE_KEY_LABEL = "io.sluice.base-key";

export type BaseName = "node" | "speech" | "python";

export interface BaseImage {
  name: BaseName;
  repository: string;
  rootfs: () => RootfsSpec;
  /** Applied at import; Dockerfiles on top may add to them. */
  changes: string[];
}

export interface ModelImage {
  name: string;
  repository: string;
  base: BaseName;
  /** Dockerfile, relative to the project root. */
  dockerfile: string;
  /**
   * `node`: the build stages `app/` (package.json + the compiled closure of the ENTRYPOINT's
   * files under /opt/sluice/) beside the Dockerfile. `directory`: the Dockerfile's own directory
   * is the context, as a user would build it.
   */
  context: "node" | "directory";
}

const NODE_ENV = ["ENV PATH=/usr/local/bin:/usr/bin:/bin", "ENV NODE_ENV=production"];

export const BASE_IMAGES: Record<BaseName, BaseImage> = {
  node: {
    name: "node",
    repository: "localhost/sluice-node-base",
    // process.execPath: the very Node that builds (and tests) Sluice, so images and host agree;
    // always at /usr/bin/node in the image, wherever it lives here.
    rootfs: () => ({ placed: { "/usr/bin/node": process.execPath } }),
    changes: NODE_ENV,
  },
  speech: {
    name: "speech",
    repository: "localhost/sluice-speech-base",
    rootfs: () => ({
      placed: { "/usr/bin/node": process.execPath },
      // DESIGN §5: the transcribe model loads these through koffi by soname.
      debianPackages: ["libpocketsphinx3", "libsphinxbase3", "libsoxr0", "pocketsphinx-en-us"],
    }),
    changes: NODE_ENV,
  },
  python: {
    name: "python",
    repository: "localhost/sluice-python-base",
    rootfs: () => {
      // python3 → python3.X: its interpreter, core and standard library packages.
      const version = basename(realpathSync("/usr/bin/python3"));
      return {
        files: ["/usr/bin/python3"],
        debianPackages: [`${version}-minimal`, `lib${version}-minimal`, `lib${version}-stdlib`, "python3-websockets"],
      };
    },
    changes: ["ENV PATH=/usr/local/bin:/usr/bin:/bin", "ENV PYTHONDONTWRITEBYTECODE=1", "ENV PYTHONUNBUFFERED=1"],
  },
};

export const MODEL_IMAGES: ModelImage[] = [
  { name: "echo", repository: "localhost/sluice-echo", base: "node", dockerfile: "models/echo/Dockerfile", context: "node" },
  { name: "transcribe", repository: "localhost/sluice-transcribe", base: "speech", dockerfile: "models/transcribe/Dockerfile", context: "node" },
  { name: "byoc-python", repository: "localhost/sluice-byoc-python", base: "python", dockerfile: "examples/byoc-python/Dockerfile", context: "directory" },
];

export interface BuildImagesOptions {
  projectRoot: string;
  /** Tag for every image; package.json's version by default. */
  version?: string;
  /** Model images to build (by name); all by default. Their bases come along. */
  only?: string[];
  /** Re-import bases even when their key matches. */
  rebuildBases?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  reference: string;
  id: string;
  ms: number;
  skipped?: boolean;
  /** The image the reference named before, now untagged. */
  replaced?: string;
}

/** Builds the bundled images on the engine `docker` talks to. */
export async function buildBundledImages(docker: Docker, options: BuildImagesOptions): Promise<BuiltImage[]> {
  const root = resolve(options.projectRoot);
  const version = options.version ?? (await projectVersion(root));
  const log = options.log ?? (() => {});
  const models = MODEL_IMAGES.filter((m) => !options.only || options.only.includes(m.name));
  const unknown = (options.only ?? []).filter((n) => !MODEL_IMAGES.some((m) => m.name === n));
  if (unknown.length > 0) throw new Error(`unknown image(s) ${unknown.join(", ")}; known: ${MODEL_IMAGES.map((m) => m.name).join(", ")}`);

  const built: BuiltImage[] = [];
  for (const name of new Set(models.map((m) => m.base))) {
    built.push(await ensureBaseImage(docker, BASE_IMAGES[name], version, options.rebuildBases ?? false, log));
  }
  for (const model of models) built.push(await buildModelImage(docker, root, model, version, log));
  // What the new images replaced would pile up as <none> images build after build. Models go
  // first (they are the bases' children); an old image still used (a container runs it, or
  // another tag names it) stays, and that is fine.
  for (const b of [...built].reverse()) {
    if (b.replaced === undefined || b.replaced === b.id) continue;
    await docker
      .getImage(b.replaced)
      .remove()
      .then(() => log(`removed the image ${b.reference} replaced (${b.replaced!.slice(0, 19)})`))
      .catch(() => undefined);
  }
  return built;
}

export async function ensureBaseImage(docker: Docker, base: BaseImage, version: string, rebuild: boolean, log: (line: string) => void): Promise<BuiltImage> {
  const reference = `${base.repository}:${version}`;
  const started = Date.now();
  const spec = base.rootfs();
  const key = await baseKey(spec, base.changes);
  const existing = await docker.getImage(reference).inspect().catch(() => undefined);
  if (!rebuild && existing?.Config?.Labels?.[BASE_KEY_LABEL] === key) {
    log(`${reference}: up to date`);
    return { reference, id: existing.Id, ms: Date.now() - started, skipped: true };
  }
  const dir = await fs.mkdtemp(join(tmpdir(), `sluice-rootfs-${base.name}-`));
  try {
    const staged = await stageRootfs(spec, dir);
    log(`${reference}: staged ${staged.entries} files, importing`);
    const id = await importRootfs(docker, dir, reference, { changes: [...base.changes, `LABEL ${BASE_KEY_LABEL}=${key}`] });
    log(`${reference}: ${id.slice(0, 19)}`);
    return { reference, id, ms: Date.now() - started, replaced: existing?.Id };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function buildModelImage(docker: Docker, root: string, model: ModelImage, version: string, log: (line: string) => void): Promise<BuiltImage> {
  const reference = `${model.repository}:${version}`;
  const started = Date.now();
  const dockerfile = join(root, model.dockerfile);
  const buildArgs = { BASE_IMAGE: `${BASE_IMAGES[model.base].repository}:${version}` };
  const previous = await docker.getImage(reference).inspect().then((i) => i.Id, () => undefined);
  let context: string;
  let staged: string | undefined;
  if (model.context === "directory") {
    context = resolve(dockerfile, "..");
  } else {
    staged = await fs.mkdtemp(join(tmpdir(), `sluice-context-${model.name}-`));
    context = staged;
    await stageNodeContext(root, dockerfile, staged);
  }
  try {
    const id = await buildContext(docker, context, reference, {
      buildArgs,
      labels: { "io.sluice.version": version },
      onLine: (line) => log(`${reference}: ${line}`),
    });
    const labels = (await docker.getImage(reference).inspect()).Config?.Labels ?? {};
    // The label is the whole point of these images; a Dockerfile that lost it is a build error.
    if (labels[BIDI_CAPABILITY_LABEL] !== "true") throw new Error(`${model.dockerfile} does not set LABEL ${BIDI_CAPABILITY_LABEL}=true`);
    return { reference, id, ms: Date.now() - started, replaced: previous };
  } finally {
    if (staged) await fs.rm(staged, { recursive: true, force: true });
  }
}

/**
 * `<context>/Dockerfile` + `<context>/app/`: a package.json (for `"type": "module"`) and the
 * compiled closure of the JavaScript files the Dockerfile's ENTRYPOINT runs from /opt/sluice/.
 */
export async function stageNodeContext(root: string, dockerfile: string, context: string): Promise<void> {
  const text = await fs.readFile(dockerfile, "utf8").catch((err: unknown) => {
    throw new Error(`${dockerfile} is missing`, { cause: err });
  });
  const entries = entrypointFiles(text);
  if (entries.length === 0) throw new Error(`${dockerfile}: ENTRYPOINT names no /opt/sluice/….js file to stage`);
  const closure = await nodeClosure(root, entries);
  const app = join(context, "app");
  await copyClosure(root, closure, app);
  const pkg = JSON.parse(await fs.readFile(join(root, "package.json"), "utf8")) as { name: string; version: string; type?: string };
  await fs.writeFile(join(app, "package.json"), JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type ?? "module", private: true }, null, 2) + "\n");
  await fs.copyFile(dockerfile, join(context, "Dockerfile"));
}

/** The `/opt/sluice/…js` arguments of an exec-form ENTRYPOINT, relative to /opt/sluice. */
export function entrypointFiles(dockerfile: string): string[] {
  const m = /^\s*ENTRYPOINT\s+(\[.*\])\s*$/im.exec(dockerfile);
  if (!m) return [];
  const args = JSON.parse(m[1]) as unknown[];
  return args
    .filter((a): a is string => typeof a === "string" && /^\/opt\/sluice\/.+\.m?js$/.test(a))
    .map((a) => a.slice("/opt/sluice/".length));
}

async function projectVersion(root: string): Promise<string> {
  return (JSON.parse(await fs.readFile(join(root, "package.json"), "utf8")) as { version: string }).version;
}

async function baseKey(spec: RootfsSpec, changes: string[]): Promise<string> {
  const hash = createHash("sha256").update(JSON.stringify({ spec, changes, node: process.version }));
  for (const pkg of spec.debianPackages ?? []) {
    const { stdout } = await run("dpkg-query", ["-W", "-f=${Package} ${Version}", pkg]).catch(() => ({ stdout: `${pkg} missing` }));
    hash.update(stdout);
  }
  return hash.digest("hex").slice(0, 16);
}
