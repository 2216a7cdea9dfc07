#!/usr/bin/env node
// Node 20's test runner does not expand globs or find *.test.ts on its own, so this lists the
// files and hands them to `node --import tsx --test`. Extra arguments (file paths or
// --test-name-pattern) pass through; with file paths, only those run.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = ["src", "models", "test", "bench", "examples"];
const skip = new Set(["node_modules", "dist"]);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const explicit = args.filter((a) => a.endsWith(".ts"));
const flags = args.filter((a) => !a.endsWith(".ts"));
const files = explicit.length > 0 ? explicit : roots.flatMap((r) => walk(r, [])).sort();
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const concurrency = process.env.SLUICE_TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...flags, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
