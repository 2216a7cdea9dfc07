// Where the Sluice package lives on disk, so bundled models resolve to its compiled programs.
// Found by walking up from this file rather than by fixed `../..` hops: the same code runs as
// dist/src/hosting/*.js (the product), as src/hosting/*.ts under tsx (tests) and from
// node_modules/sluice when installed as a dependency.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "sluice";

let cached: string | undefined;

/** The nearest directory at or above `start` (default: this file's) holding Sluice's package.json. */
export function findRepoRoot(start?: string): string {
  if (start === undefined) {
    cached ??= findRepoRoot(dirname(fileURLToPath(import.meta.url)));
    return cached;
  }
  let dir = start;
  for (;;) {
    if (isSluicePackage(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`could not find the ${PACKAGE_NAME} package root above ${start}`);
    }
    dir = parent;
  }
}

function isSluicePackage(path: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path, "utf8")) as { name?: unknown };
    return pkg.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
