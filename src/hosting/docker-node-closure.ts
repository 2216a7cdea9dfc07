// What a compiled Node program needs at run time, so an image carries exactly that: the compiled
// JavaScript files its entry reaches through relative imports, and the installed packages it
// names (with their own dependencies). Sluice's output is plain `tsc` ESM, so a static scan of
// import specifiers is complete for it; a dynamic import of a computed name is not followed.

import { builtinModules } from "node:module";
import { promises as fs } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

export interface NodeClosure {
  /** Compiled files, relative to the project root (e.g. `dist/models/echo/main.js`). */
  files: string[];
  /** Package directories, relative to the project root (e.g. `node_modules/ws`). */
  packages: string[];
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g;
const BUILTINS = new Set(builtinModules);

/** The closure of `entries` (paths relative to `projectRoot`). */
export async function nodeClosure(projectRoot: string, entries: string[]): Promise<NodeClosure> {
  const root = resolve(projectRoot);
  const files = new Set<string>();
  const bare = new Set<string>();
  const pending = entries.map((e) => resolve(root, e));

  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    let source: string;
    try {
      source = await fs.readFile(file, "utf8");
    } catch (err) {
      throw new Error(`${relative(root, file)} is missing (run npm run build first?)`, { cause: err });
    }
    files.add(file);
    for (const m of source.matchAll(SPECIFIER)) {
      const spec = m[1];
      if (spec.startsWith("node:") || BUILTINS.has(spec)) continue;
      if (spec.startsWith(".") || spec.startsWith("/")) pending.push(resolve(dirname(file), spec));
      else bare.add(packageName(spec));
    }
  }

  const packages = new Set<string>();
  const pendingPkgs = [...bare].map((name) => ({ name, from: root }));
  while (pendingPkgs.length > 0) {
    const { name, from } = pendingPkgs.pop()!;
    const dir = await findPackage(root, from, name);
    if (dir === undefined) throw new Error(`package ${name} (needed by ${relative(root, from) || "the entry"}) is not installed`);
    if (packages.has(dir)) continue;
    packages.add(dir);
    const manifest = JSON.parse(await fs.readFile(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) pendingPkgs.push({ name: dep, from: dir });
    // Optional dependencies (e.g. koffi's per-platform binaries) come along when installed.
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
      if ((await findPackage(root, dir, dep)) !== undefined) pendingPkgs.push({ name: dep, from: dir });
    }
  }

  const rel = (p: string) => relative(root, p).split(sep).join("/");
  return { files: [...files].map(rel).sort(), packages: [...packages].map(rel).sort() };
}

/** `@scope/pkg/sub/path` → `@scope/pkg`; `pkg/sub` → `pkg`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Node's lookup: `node_modules/<name>` in `from` and each parent up to the project root. */
async function findPackage(root: string, from: string, name: string): Promise<string | undefined> {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (await fs.stat(join(candidate, "package.json")).then(() => true, () => false)) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** Copies the closure into `dest`, keeping project-relative paths. */
export async function copyClosure(projectRoot: string, closure: NodeClosure, dest: string): Promise<void> {
  for (const file of closure.files) {
    await fs.mkdir(dirname(join(dest, file)), { recursive: true });
    await fs.copyFile(join(projectRoot, file), join(dest, file));
  }
  for (const pkg of closure.packages) {
    await fs.cp(join(projectRoot, pkg), join(dest, pkg), {
      recursive: true,
      // Nested node_modules are copied as packages of their own when needed, not wholesale.
      filter: (src) => !relative(join(projectRoot, pkg), src).split(sep).includes("node_modules"),
    });
  }
}
