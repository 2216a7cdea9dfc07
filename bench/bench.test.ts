// Keeps the benchmarks working (they never run in `npm test` otherwise): the smallest quick
// config of one scenario, end to end on all three paths — Sluice deployed through its API, nginx
// configured and started, the pinned load generator, results written. It checks that every path
// was measured without errors, never how fast anything was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, it } from "node:test";

const script = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bench", "setup.js");
const out = mkdtempSync(join(tmpdir(), "bench-test-"));
after(() => rmSync(out, { recursive: true, force: true }));

it("measures session setup on direct, nginx and sluice and writes the results", { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [script, "--quick", "--setup.count=20", "--setup.warmup=2", "--out", out], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, output);
  const report = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as {
    scenarios: { name: string; notMeasured: Record<string, string>; runs: { path: string; errors: string[]; metrics: Record<string, number> }[] }[];
  };
  const setup = report.scenarios.find((s) => s.name === "setup");
  assert.ok(setup, output);
  assert.deepEqual(setup.notMeasured, {}, output);
  assert.deepEqual(setup.runs.map((r) => r.path).sort(), ["direct", "nginx", "sluice"]);
  for (const run of setup.runs) {
    assert.deepEqual(run.errors, [], `${run.path}: ${output}`);
    assert.equal(run.metrics.count, 20, run.path);
    assert.ok(Number.isFinite(run.metrics.p50), run.path);
  }
  assert.match(readFileSync(join(out, "latest.md"), "utf8"), /\| sluice ÷ nginx \|/);
});
