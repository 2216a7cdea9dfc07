// The reconciler against real processes: local model directories run by hosting/process.ts.
// The model is a few lines of Node written into a temp dir, so no build is needed and each test
// picks its behaviour through the model's Environment.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { ProcessHost } from "../hosting/process.js";
import { isAlive } from "../hosting/process-start-time.js";
import { ping } from "./ping.js";
import { openHarness, tempDir, until, untilStatus, type Harness } from "./test-support/harness.js";

const MODEL_SERVER = `
import { createServer } from "node:http";
const mode = process.env.MODE ?? "ok";
console.log("model starting in mode " + mode + " with args " + process.argv.slice(2).join(" "));
if (mode === "crash") { console.error("fatal: weights not found"); process.exit(3); }
const server = createServer((req, res) => {
  if (req.url === "/ping") res.writeHead(mode === "never-ready" ? 503 : 200).end(String(process.pid));
  else res.writeHead(404).end();
});
server.listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

function modelDir(t: TestContext): string {
  const dir = join(tempDir(t, "sluice-model-"), "model");
  mkdirSync(dir);
  writeFileSync(join(dir, "server.mjs"), MODEL_SERVER);
  writeFileSync(
    join(dir, "sluice-model.json"),
    JSON.stringify({ command: ["node", "server.mjs"], labels: { "com.amazonaws.sagemaker.capabilities.bidirectional-streaming": "true" } }),
  );
  return dir;
}

/** Running, not a zombie: pid 1 in a container may never reap the orphans of a killed run. */
function alive(pid: number): boolean {
  return isAlive(pid);
}

async function deploy(h: Harness, dir: string, name: string, mode = "ok", count = 2): Promise<void> {
  const suffix = `${name}-${mode}`;
  for (const [op, body] of [
    ["CreateModel", { ModelName: `m-${suffix}`, PrimaryContainer: { Image: dir, Environment: { MODE: mode } } }],
    [
      "CreateEndpointConfig",
      {
        EndpointConfigName: `c-${suffix}`,
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: `m-${suffix}`, InitialInstanceCount: count }],
      },
    ],
  ] as const) {
    const res = await h.call(op, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
}

async function instances(h: Harness, endpoint: string): Promise<any[]> {
  return (await h.call("Sluice.ListInstances", { EndpointName: endpoint })).body.Instances;
}

async function untilGone(h: Harness, name: string): Promise<void> {
  await until(h.plane, async () => (await h.call("DescribeEndpoint", { EndpointName: name })).status === 400, `${name} to go`);
}

describe("reconciler with local processes", () => {
  it("brings an endpoint to InService with two real instances, then deletes it and stops them", async (t) => {
    const dir = modelDir(t);
    const h = await openHarness(t, [new ProcessHost()]);
    await deploy(h, dir, "ep");
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-ok" });
    const d = await untilStatus(h, "ep", "InService");
    assert.equal(d.ProductionVariants[0].CurrentInstanceCount, 2);
    assert.equal(d.ProductionVariants[0].DeployedImages[0].SpecifiedImage, dir);
    const list = await instances(h, "ep");
    assert.equal(list.length, 2);
    assert.notEqual(list[0].Port, list[1].Port);
    for (const i of list) {
      assert.ok(alive(i.Pid));
      assert.equal((await ping("127.0.0.1", i.Port, 2000)).ok, true);
    }
    const live = h.plane.live.getLiveEndpoint("ep");
    assert.equal(live?.variants[0]?.bidiCapable, true);

    await h.call("DeleteEndpoint", { EndpointName: "ep" });
    await untilGone(h, "ep");
    for (const i of list) assert.equal(alive(i.Pid), false, `pid ${i.Pid} still running`);
  });

  it("fails an endpoint whose model never answers /ping, quoting its log, and leaves nothing running", async (t) => {
    const dir = modelDir(t);
    const h = await openHarness(t, [new ProcessHost()], { instanceStartTimeoutMs: 1500 });
    await deploy(h, dir, "ep", "never-ready", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-never-ready" });
    const started = await until(h.plane, async () => (await instances(h, "ep"))[0], "an instance");
    const d = await untilStatus(h, "ep", "Failed");
    assert.match(d.FailureReason, /did not answer GET \/ping with 200 within 1500 ms \(GET \/ping answered 503\)/);
    assert.match(d.FailureReason, /Last log lines: .*model starting in mode never-ready with args serve/);
    await h.plane.reconciler.whenIdle();
    assert.equal(alive(started.Pid), false);
    assert.deepEqual(await instances(h, "ep"), []);
  });

  it("fails fast, with the log, when the model exits at start", async (t) => {
    const dir = modelDir(t);
    const h = await openHarness(t, [new ProcessHost()]);
    await deploy(h, dir, "ep", "crash", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-crash" });
    const d = await untilStatus(h, "ep", "Failed");
    assert.match(d.FailureReason, /exited \(code 3\) before answering GET \/ping/);
    assert.match(d.FailureReason, /fatal: weights not found/);
  });

  it("keeps the old instances serving when an update fails", async (t) => {
    const dir = modelDir(t);
    const h = await openHarness(t, [new ProcessHost()], { instanceStartTimeoutMs: 1500 });
    await deploy(h, dir, "ep", "ok", 1);
    await deploy(h, dir, "ep", "never-ready", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-ok" });
    await untilStatus(h, "ep", "InService");
    const [old] = await instances(h, "ep");
    await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-never-ready" });
    const d = await until(
      h.plane,
      async () => {
        const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
        return r.body.EndpointStatus === "InService" && r.body.FailureReason ? r.body : undefined;
      },
      "the update to fail",
    );
    assert.equal(d.EndpointConfigName, "c-ep-ok");
    assert.match(d.FailureReason, /GET \/ping answered 503/);
    await h.plane.reconciler.whenIdle();
    const now = await instances(h, "ep");
    assert.deepEqual(now.map((i) => [i.Pid, i.InRotation]), [[old.Pid, true]]);
    assert.equal((await ping("127.0.0.1", old.Port, 2000)).ok, true);
  });

  it("replaces an instance that dies, counting the restart", async (t) => {
    const dir = modelDir(t);
    const h = await openHarness(t, [new ProcessHost()]);
    await deploy(h, dir, "ep", "ok", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c-ep-ok" });
    await untilStatus(h, "ep", "InService");
    const [first] = await instances(h, "ep");
    process.kill(-first.Pid, "SIGKILL");
    const replacement = await until(
      h.plane,
      async () => (await instances(h, "ep")).find((i) => i.Pid !== first.Pid && i.State === "Healthy"),
      "a replacement",
    );
    assert.equal(replacement.Restarts, 1);
    assert.equal((await h.call("DescribeEndpoint", { EndpointName: "ep" })).body.EndpointStatus, "InService");
  });
});

describe("restart on the same data dir", () => {
  it("reaps the killed run's instances and comes back InService with fresh ones", async (t) => {
    const dir = modelDir(t);
    const dataDir = tempDir(t);
    const script = join(tempDir(t), "first-run.mts");
    const here = (p: string): string => JSON.stringify(fileURLToPath(new URL(p, import.meta.url)));
    writeFileSync(
      script,
      `import { ControlPlane } from ${here("./control-plane.ts")};
       import { hostResolver } from ${here("./image.ts")};
       import { ProcessHost } from ${here("../hosting/process.ts")};
       const plane = await ControlPlane.open({ dataDir: process.argv[2], hosts: hostResolver([new ProcessHost()]), startupPollIntervalMs: 20 });
       const call = async (op, body) => {
         const r = await plane.handle({ target: "SageMaker." + op, body: Buffer.from(JSON.stringify(body)), requestId: "r" });
         if (r.status !== 200) throw new Error(JSON.stringify(r.body));
         return r.body;
       };
       await call("CreateModel", { ModelName: "m", PrimaryContainer: { Image: process.argv[3] } });
       await call("CreateEndpointConfig", { EndpointConfigName: "c", ProductionVariants: [{ VariantName: "v", ModelName: "m", InitialInstanceCount: 2 }] });
       await call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c" });
       plane.live.onChange(() => {
         const ep = plane.live.getLiveEndpoint("ep");
         const ready = ep?.status === "InService" ? ep.variants[0].instances.filter((i) => i.inRotation) : [];
         if (ready.length === 2) process.stdout.write(JSON.stringify(ready.map((i) => i.pid)) + "\\n");
       });
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, dataDir, dir], { stdio: ["ignore", "pipe", "inherit"] });
    t.after(() => child.kill("SIGKILL"));
    child.stdout.setEncoding("utf8");
    let out = "";
    const oldPids = await new Promise<number[]>((resolve, reject) => {
      child.on("exit", (code) => reject(new Error(`first run exited with ${code}`)));
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        const line = out.split("\n").find((l) => l.startsWith("["));
        if (line) resolve(JSON.parse(line) as number[]);
      });
    });
    assert.equal(oldPids.length, 2);
    child.kill("SIGKILL");
    await once(child, "exit");
    // Detached in their own process groups, the instances outlived the killed Sluice.
    for (const pid of oldPids) assert.ok(alive(pid), `instance ${pid} should have outlived its parent`);

    const h = await openHarness(t, [new ProcessHost()], { dataDir });
    for (const pid of oldPids) assert.equal(alive(pid), false, `leftover ${pid} not reaped`);
    const fresh = await until(
      h.plane,
      () => {
        const ep = h.plane.live.getLiveEndpoint("ep");
        const ready = ep?.variants[0]?.instances.filter((i) => i.inRotation) ?? [];
        return ep?.status === "InService" && ready.length === 2 ? ready : undefined;
      },
      "fresh instances",
    );
    for (const i of fresh) {
      assert.ok(!oldPids.includes(i.pid!));
      assert.ok(alive(i.pid!));
    }
    assert.equal((await h.call("DescribeEndpoint", { EndpointName: "ep" })).body.EndpointStatus, "InService");
  });
});
