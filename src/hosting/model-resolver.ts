// Turns a `PrimaryContainer.Image` into something the process host can run (DESIGN §1 "Models"):
// the bundled `sluice/*` models, or a local model directory described by `sluice-model.json`.
// Container image references are not ours: `handles` says no and the Docker host takes them.

import { constants } from "node:fs";
import { access, readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsError } from "../protocol/aws-error.js";
import { BIDI_CAPABILITY_LABEL } from "./host.js";
import { findRepoRoot } from "./repo-root.js";

export const MANIFEST_FILE = "sluice-model.json";
const RESERVED_PREFIX = "sluice/";
// Not just "file:": `file:latest` is the container image `file` with the tag `latest`.
const FILE_URL = "file://";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A model ready to spawn: `command` (with `serve` not yet appended) runs in `cwd`. */
export interface ResolvedModel {
  /** Absolute executable first, then its arguments. */
  command: string[];
  cwd: string;
  /** The manifest's environment; the lowest precedence. */
  env: Record<string, string>;
  labels: Record<string, string>;
  /** The program for bundled models, the real path of the directory for local ones. */
  resolvedImage: string;
}

export interface ModelResolverOptions {
  /** The Sluice package root holding `dist/models/*`; found from this file by default. */
  repoRoot?: string;
  /** The node binary for bundled models and for manifests whose command starts with `node`. */
  nodePath?: string;
}

export class ModelResolver {
  private readonly repoRoot: string;
  private readonly nodePath: string;

  constructor(options: ModelResolverOptions = {}) {
    this.repoRoot = options.repoRoot ?? findRepoRoot();
    this.nodePath = options.nodePath ?? process.execPath;
  }

  /** Whether the image is for the process host. Cheap and synchronous: no file is read. */
  handles(image: string): boolean {
    return (
      image.startsWith(RESERVED_PREFIX) ||
      image.startsWith(FILE_URL) ||
      isAbsolute(image) ||
      image.startsWith("./") ||
      image.startsWith("../")
    );
  }

  /** Resolves the image or throws a ValidationException a user can act on. */
  async resolve(image: string): Promise<ResolvedModel> {
    if (image.startsWith(RESERVED_PREFIX)) return this.resolveBundled(image);
    if (image.startsWith(FILE_URL)) {
      let dir: string;
      try {
        dir = fileURLToPath(image);
      } catch (err) {
        throw invalid(`Image ${image} is not a valid file:// URL: ${(err as Error).message}`);
      }
      return this.resolveDirectory(image, dir);
    }
    if (isAbsolute(image)) return this.resolveDirectory(image, image);
    if (image.startsWith("./") || image.startsWith("../")) {
      throw invalid(
        `Image ${image} is a relative path; a local model directory must be an absolute path or a file:// URL`,
      );
    }
    throw invalid(`Image ${image} is a container image reference, which the process host does not run`);
  }

  private async resolveBundled(image: string): Promise<ResolvedModel> {
    const name = image.slice(RESERVED_PREFIX.length);
    if (!BUNDLED_MODELS.includes(name)) {
      throw invalid(
        `Image ${image} is not a bundled model: the ${RESERVED_PREFIX} prefix is reserved for ` +
          `${BUNDLED_MODELS.map((m) => RESERVED_PREFIX + m).join(", ")}`,
      );
    }
    const program = join(this.repoRoot, "dist", "models", name, "main.js");
    if (!(await isFile(program))) {
      throw invalid(`Image ${image} is not built: ${program} is missing (run \`npm run build\`)`);
    }
    return {
      command: [this.nodePath, program],
      cwd: join(this.repoRoot, "dist", "models", name),
      env: {},
      labels: { [BIDI_CAPABILITY_LABEL]: "true" },
      resolvedImage: program,
    };
  }

  private async resolveDirectory(image: string, path: string): Promise<ResolvedModel> {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw invalid(`Image ${image}: model directory ${path} does not exist`);
    if (!info.isDirectory()) throw invalid(`Image ${image}: ${path} is not a directory`);
    const dir = await realpath(path);
    const manifestPath = join(dir, MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(manifestPath, "utf8");
    } catch {
      throw invalid(
        `Image ${image}: model directory ${dir} has no ${MANIFEST_FILE} ` +
          `(expected {"command": [...], "env": {...}, "labels": {...}})`,
      );
    }
    const manifest = parseManifest(text, manifestPath);
    const [program, ...args] = manifest.command;
    let executable: string;
    if (program === "node") {
      // The node running Sluice, not whichever `node` happens to be first on PATH.
      executable = this.nodePath;
    } else if (isAbsolute(program)) {
      executable = program;
    } else if (program.includes("/")) {
      executable = resolve(dir, program);
      if (!(await isExecutable(executable))) {
        throw invalid(`${manifestPath}: command ${program} is not an executable file in ${dir}`);
      }
    } else {
      executable = program; // a bare name, looked up on PATH when spawned
    }
    return {
      command: [executable, ...args],
      cwd: dir,
      env: manifest.env,
      labels: manifest.labels,
      resolvedImage: dir,
    };
  }
}

/** The models shipped in `models/`, run by name as `sluice/<name>`. */
export const BUNDLED_MODELS: readonly string[] = ["echo", "transcribe"];

export interface Manifest {
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
}

/** Validates `sluice-model.json`; strict about unknown fields so a typo is not silently ignored. */
export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(value)) throw invalid(`${where} must hold a JSON object`);
  for (const key of Object.keys(value)) {
    if (key !== "command" && key !== "env" && key !== "labels") {
      throw invalid(`${where}: unknown field "${key}" (expected "command", "env", "labels")`);
    }
  }
  const { command, env, labels } = value;
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((part) => typeof part === "string") ||
    command[0] === ""
  ) {
    throw invalid(`${where}: "command" must be a non-empty array of strings, e.g. ["python3", "app.py"]`);
  }
  const envMap = stringMap(env, "env", where);
  for (const name of Object.keys(envMap)) {
    if (!ENV_NAME.test(name)) throw invalid(`${where}: "env" has an invalid variable name "${name}"`);
  }
  return { command: command as string[], env: envMap, labels: stringMap(labels, "labels", where) };
}

function stringMap(value: unknown, field: string, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid(`${where}: "${field}" must be an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      throw invalid(`${where}: "${field}.${key}" must be a string, not ${JSON.stringify(entry)}`);
    }
  }
  return { ...(value as Record<string, string>) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string): AwsError {
  return new AwsError("ValidationException", 400, message);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function isExecutable(path: string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}
