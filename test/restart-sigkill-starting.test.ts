// Regression: an instance still starting (spawned, not yet listening) when Sluice is SIGKILLed
// used to be unrecorded, so the next run could not reap it and it lived on as an orphan. Hosts now
// report what they spawned at once, and the reconciler records it before the instance is ready.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand } from "@aws-sdk/client-sagemaker";
import { controlClient } from "./helpers/deploy.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const modelDir = mkdtempSync(join(tmpdir(), "sluice-never-binds-"));
writeFileSync(
  join(modelDir, "sluice-model.json"),
  JSON.stringify({ command: ["node", "main.mjs"], labels: { "com.amazonaws.sagemaker.capabilities.bidirectional-streaming": "true" } }),
);
// Announces its pid, then never listens: it stays "starting" for as long as Sluice lets it.
writeFileSync(join(modelDir, "main.mjs"), 'console.log(`pid=${process.pid}`);\nsetInterval(() => {}, 1000);\n');

const running: SluiceProcess[] = [];
after(async () => {
  for (const s of running) await s.cleanup();
  rmSync(modelDir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("regression: an instance spawned but not yet ready when Sluice is SIGKILLed is reaped by the next run", async () => {
  const first = await startSluice({ keepData: true, args: ["--instance-start-timeout", "10m"] });
  running.push(first);
  const sm = controlClient(first.url);
  await sm.send(new CreateModelCommand({ ModelName: "slow", PrimaryContainer: { Image: modelDir } }));
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: "slow",
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "slow", InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
    }),
  );
  await sm.send(new CreateEndpointCommand({ EndpointName: "slow", EndpointConfigName: "slow" }));
  sm.destroy();

  const logDir = join(first.dataDir, "logs", "slow");
  const pid = await waitFor("the starting instance to announce its pid", () => {
    for (const file of (() => {
      try {
        return readdirSync(logDir);
      } catch {
        return [];
      }
    })()) {
      const m = /pid=(\d+)/.exec(readFileSync(join(logDir, file), "utf8"));
      if (m) return Number(m[1]);
    }
    return undefined;
  });
  assert.ok(alive(pid));
  await first.stop("SIGKILL");
  assert.ok(alive(pid), "a detached instance outlives Sluice's SIGKILL");

  const second = await startSluice({ dataDir: first.dataDir, args: ["--instance-start-timeout", "10m"] });
  running.push(second);
  await waitFor("the previous run's starting instance to be reaped", () => (alive(pid) ? undefined : true), 30_000);
});
