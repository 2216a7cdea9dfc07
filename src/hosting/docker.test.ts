// The container host on a real engine: a private Podman service, the small test model image.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { AwsError } from "../protocol/aws-error.js";
import { buildBundledImage, buildTestModelImages, PROJECT_ROOT, startTestEngine, waitForPing, type TestEngine, type TestModelImages } from "../../test/podman-harness.js";
import { createDockerHost, DockerHost } from "./docker.js";
import { freePort } from "./free-port.js";
import { LABEL_ENDPOINT, LABEL_INSTANCE_ID, LABEL_MANAGED, LABEL_OWNER, LABEL_RUN_ID, LABEL_VARIANT } from "./docker-labels.js";
import { BIDI_CAPABILITY_LABEL, isBidiCapable, type Instance, type InstanceSpec } from "./host.js";

// Caps against hangs only, never expectations.
const CAP_MS = Number(process.env.SLUICE_TEST_CAP_MS ?? 60_000);

let engine: TestEngine;
let images: TestModelImages;
/** The bundled echo model's image, when the compiled model exists to build it from. */
let echoImage: string | undefined;
let echoMissing = "";
let dir: string;
const owners = new Set<string>();
/** Errors the hosts reported with no caller to throw to; none are expected. */
const hostErrors: string[] = [];

function newHost(options: { owner?: string; runId?: string; memoryOverrides?: Record<string, number> } = {}): DockerHost {
  const owner = options.owner ?? `test-${randomBytes(4).toString("hex")}`;
  owners.add(owner);
  return createDockerHost(engine.socketPath, {
    owner,
    runId: options.runId,
    memoryOverrides: options.memoryOverrides,
    logDrainTimeoutMs: 5_000,
    onError: (err, what) => hostErrors.push(`${what}: ${String(err)}`),
  });
}

let seq = 0;
function spec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  const instanceId = `ep-AllTraffic-${process.pid}-${++seq}`;
  return {
    instanceId,
    endpointName: "ep",
    variantName: "AllTraffic",
    image: images.labelled,
    environment: {},
    logFile: join(dir, "logs", `${instanceId}.log`),
    ...overrides,
  };
}

async function containerGone(id: string): Promise<boolean> {
  return engine.docker
    .getContainer(id)
    .inspect()
    .then(() => false, (err: { statusCode?: number }) => err.statusCode === 404);
}

function withCap<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no result within ${CAP_MS} ms`)), CAP_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), "sluice-docker-test-"));
  engine = await startTestEngine();
  images = await buildTestModelImages(engine.docker);
  const compiledEcho = join(PROJECT_ROOT, "dist/models/echo/main.js");
  if (await fs.stat(compiledEcho).then(() => true, () => false)) echoImage = await buildBundledImage(engine.docker, "echo");
  else echoMissing = `${compiledEcho} is not built (npm test builds it first)`;
});

after(async () => {
  try {
    // Whatever a failed test left behind, by label, as reaping does.
    if (engine) {
      for (const owner of owners) {
        const left = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_OWNER}=${owner}`] } });
        await Promise.all(left.map((c) => engine.docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      }
      await engine.stop();
    }
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(hostErrors, []);
});

describe("DockerHost", () => {
  test("handles container image references, not what the process host runs", () => {
    const host = newHost();
    for (const image of ["localhost/sluice-echo:0.1.0", "busybox", "ghcr.io/org/model@sha256:" + "a".repeat(64), "registry:5000/a/b:1"]) {
      assert.equal(host.handles(image), true, image);
    }
    for (const image of ["sluice/echo", "/opt/models/x", "file:///opt/models/x", "./x", "", "UpperCase", "a b", "ep:"]) {
      assert.equal(host.handles(image), false, image);
    }
  });

  test("inspect reads the capability label from the image", async () => {
    const host = newHost();
    const labelled = await host.inspect(images.labelled);
    assert.equal(labelled.labels[BIDI_CAPABILITY_LABEL], "true");
    assert.equal(isBidiCapable(labelled), true);
    assert.match(labelled.resolvedImage, /^sha256:[0-9a-f]{64}$/);
    const unlabelled = await host.inspect(images.unlabelled);
    assert.equal(unlabelled.labels[BIDI_CAPABILITY_LABEL], undefined);
    assert.equal(isBidiCapable(unlabelled), false);
  });

  test("an image that is not present locally is an error saying to build or load it", async () => {
    const host = newHost();
    const image = `localhost/sluice-no-such-image:${randomBytes(3).toString("hex")}`;
    for (const attempt of [() => host.inspect(image), () => host.start(spec({ image }))]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof AwsError);
        assert.equal(err.type, "ValidationException");
        assert.match(err.message, new RegExp(`${image.replace(/[.]/g, "\\.")} is not present`));
        assert.match(err.message, /build it/);
        assert.match(err.message, /load it/);
        return true;
      });
    }
  });

  test("regression: a host port taken before the engine binds it is retried on another, not a failed instance", async (t) => {
    // Something else holds the first port offered, as happened on a busy machine between the
    // engine's choice and its bind.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const taken = (squatter.address() as net.AddressInfo).port;
    const offered: number[] = [];
    const owner = `test-${randomBytes(4).toString("hex")}`;
    owners.add(owner);
    const host = createDockerHost(engine.socketPath, {
      owner,
      logDrainTimeoutMs: 5_000,
      onError: (err, what) => hostErrors.push(`${what}: ${String(err)}`),
      choosePort: async () => {
        const port = offered.length === 0 ? taken : await freePort();
        offered.push(port);
        return port;
      },
    });
    const instance = await withCap(host.start(spec()), "start");
    t.after(() => instance.stop(1_000));
    assert.equal(offered[0], taken);
    assert.equal(offered.length, 2, "one retry on a new port");
    assert.equal(instance.port, offered[1]);
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
  });

  test("an unreachable engine is ServiceUnavailable naming the socket", async () => {
    const host = createDockerHost(join(dir, "no-engine.sock"), { requestTimeoutMs: 10_000 });
    await assert.rejects(host.inspect(images.labelled), (err: unknown) => {
      assert.ok(err instanceof AwsError);
      assert.equal(err.type, "ServiceUnavailable");
      assert.match(err.message, /no-engine\.sock/);
      return true;
    });
  });

  test("starts a container like SageMaker does and stops it gracefully", async () => {
    const host = newHost();
    // A colon in the path: Binds' "src:dst:ro" syntax could not carry it, Mounts can.
    const modelDir = join(dir, "model:data");
    await fs.mkdir(modelDir, { recursive: true });
    await fs.writeFile(join(modelDir, "weights.bin"), "w");
    const s = spec({ environment: { USER_SETTING: "on", SAGEMAKER_BIND_TO_PORT: "9999" }, modelDataPath: modelDir, instanceType: "ml.m5.large" });
    const instance = await host.start(s);
    let stopped = false;
    try {
      assert.equal(instance.host, "127.0.0.1");
      assert.ok(instance.port > 0);
      assert.ok(instance.containerId);
      assert.ok(instance.pid === undefined || instance.pid > 0);
      await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);

      const get = async (path: string) => (await fetch(`http://127.0.0.1:${instance.port}${path}`)).json();
      assert.deepEqual(await get("/argv"), ["serve"]);
      const env = (await get("/env")) as Record<string, string>;
      assert.equal(env.USER_SETTING, "on");
      // Sluice's value wins over Environment's, as for processes.
      assert.equal(env.SAGEMAKER_BIND_TO_PORT, "8080");
      assert.equal(env.SM_MODEL_DIR, "/opt/ml/model");
      assert.deepEqual(await get("/model"), { files: ["weights.bin"], writable: false });
      const inv = await fetch(`http://127.0.0.1:${instance.port}/invocations`, { method: "POST", body: "hello" });
      assert.deepEqual(await inv.json(), { echo: "hello" });

      const info = await engine.docker.getContainer(instance.containerId!).inspect();
      assert.deepEqual(
        info.HostConfig.PortBindings?.["8080/tcp"]?.map((b: { HostIp: string }) => b.HostIp),
        ["127.0.0.1"],
      );
      assert.equal(info.HostConfig.Memory, 8 * 1024 ** 3);
      assert.equal(info.Config.Labels[LABEL_MANAGED], "true");
      assert.equal(info.Config.Labels[LABEL_OWNER], host.owner);
      assert.equal(info.Config.Labels[LABEL_RUN_ID], host.runId);
      assert.equal(info.Config.Labels[LABEL_ENDPOINT], "ep");
      assert.equal(info.Config.Labels[LABEL_VARIANT], "AllTraffic");
      assert.equal(info.Config.Labels[LABEL_INSTANCE_ID], s.instanceId);
      assert.ok(info.Mounts.some((m: { Destination: string; RW: boolean }) => m.Destination === "/opt/ml/model" && m.RW === false));

      const exit = await withCap(instance.stop(CAP_MS), "stop");
      stopped = true;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.deepEqual(await instance.exited, exit);
      assert.equal(await containerGone(instance.containerId!), true, "the container is removed once it has gone");
      const log = await fs.readFile(s.logFile, "utf8");
      assert.match(log, /test-model: listening on 8080 argv=serve/);
      assert.match(log, /test-model: a line on stderr/);
      assert.match(log, /test-model: SIGTERM, closing/);
    } finally {
      if (!stopped) await instance.stop(0);
    }
  });

  test("WebSocket frames reach the container and come back, text as text and binary as binary", async () => {
    const host = newHost();
    const instance = await host.start(spec());
    try {
      await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
      const ws = new WebSocket(`ws://127.0.0.1:${instance.port}/invocations-bidirectional-stream`, { perMessageDeflate: false });
      await withCap(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), "open");
      const next = () => withCap(new Promise<[Buffer, boolean]>((resolve) => ws.once("message", (d: Buffer, bin: boolean) => resolve([d, bin]))), "message");
      let reply = next();
      ws.send("hello");
      assert.deepEqual(await reply, [Buffer.from("hello"), false]);
      reply = next();
      ws.send(Buffer.from([0, 1, 2, 255]));
      assert.deepEqual(await reply, [Buffer.from([0, 1, 2, 255]), true]);
      ws.close(1000);
      await withCap(new Promise((r) => ws.once("close", r)), "close");
    } finally {
      await instance.stop(0);
    }
  });

  test("the bundled echo image serves /ping and echoes over the WebSocket", async (t) => {
    if (echoImage === undefined) return t.skip(echoMissing);
    const host = newHost();
    const info = await host.inspect(echoImage);
    assert.equal(isBidiCapable(info), true);
    const instance = await host.start(spec({ image: echoImage }));
    try {
      await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
      const ws = new WebSocket(`ws://127.0.0.1:${instance.port}/invocations-bidirectional-stream?model=x`, { perMessageDeflate: false });
      await withCap(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), "open");
      const next = () => withCap(new Promise<[string, boolean]>((resolve) => ws.once("message", (d: Buffer, bin: boolean) => resolve([d.toString(), bin]))), "message");
      let reply = next();
      ws.send(JSON.stringify({ type: "sluice.echo.info" }));
      const about = JSON.parse((await reply)[0]) as { instanceId: string; path: string };
      assert.equal(about.instanceId, instance.instanceId, "the container knows its instance id");
      assert.equal(about.path, "/invocations-bidirectional-stream");
      reply = next();
      ws.send("bonjour");
      assert.deepEqual(await reply, ["bonjour", false]);
      const closed = withCap(new Promise<number>((r) => ws.once("close", (code: number) => r(code))), "close");
      ws.send(JSON.stringify({ type: "CloseStream" }));
      assert.equal(await closed, 1000);
    } finally {
      const exit = await instance.stop(CAP_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, "the echo model exits 0 on SIGTERM");
    }
    const log = await fs.readFile(instance.logFile, "utf8");
    assert.match(log, /^\[sluice\] .* starting instance .* in container [0-9a-f]{12}: localhost\/sluice-echo:.* serve$/m);
    assert.match(log, /^\[sluice\] .* instance .* exited with code 0$/m);
  });

  test("stop escalates to SIGKILL after the grace when SIGTERM is ignored", async () => {
    const host = newHost();
    const instance = await host.start(spec({ environment: { IGNORE_SIGTERM: "1" } }));
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    const exit = await withCap(instance.stop(200), "stop");
    assert.deepEqual(exit, { code: null, signal: "SIGKILL" });
    assert.match(await fs.readFile(instance.logFile, "utf8"), /ignoring SIGTERM/);
    assert.equal(await containerGone(instance.containerId!), true);
  });

  test("the memory limit holds: a container growing past it is killed", async () => {
    const host = newHost({ memoryOverrides: { "ml.test.tiny": 96 * 1024 * 1024 } });
    const instance = await host.start(spec({ instanceType: "ml.test.tiny" }));
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    await fetch(`http://127.0.0.1:${instance.port}/alloc`);
    assert.deepEqual(await withCap(instance.exited, "exited"), { code: null, signal: "SIGKILL" });
    // "after exceeding its memory limit" follows where the engine reports OOMKilled (Docker does;
    // Podman 4.3 with runc on cgroup v1 does not), so only the kill itself is certain here.
    assert.match(await fs.readFile(instance.logFile, "utf8"), /was killed by SIGKILL/);
  });

  test("kill settles exited at once and removes the container", async () => {
    const host = newHost();
    const instance = await host.start(spec());
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    instance.kill();
    assert.deepEqual(await withCap(instance.exited, "exited"), { code: null, signal: "SIGKILL" });
    assert.equal(await containerGone(instance.containerId!), true);
    // Stopping what has gone is harmless and says how it went.
    assert.deepEqual(await instance.stop(1_000), { code: null, signal: "SIGKILL" });
  });

  test("a container killed from outside (podman kill) settles exited", async () => {
    const host = newHost();
    const instance = await host.start(spec());
    await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    await engine.docker.getContainer(instance.containerId!).kill({ signal: "SIGKILL" });
    assert.deepEqual(await withCap(instance.exited, "exited"), { code: null, signal: "SIGKILL" });
    assert.equal(await containerGone(instance.containerId!), true);
  });

  test("a leftover holding the instance's container name is replaced; a stranger's is not touched", async () => {
    const owner = `test-${randomBytes(4).toString("hex")}`;
    const s = spec();
    const leftover = await newHost({ owner, runId: "run-earlier" }).start(s);
    const fresh = await newHost({ owner, runId: "run-now" }).start({ ...s, logFile: s.logFile + ".2" });
    try {
      await withCap(leftover.exited, "leftover exited");
      assert.notEqual(fresh.containerId, leftover.containerId);
      await waitForPing(fresh.host, fresh.port, CAP_MS, fresh.exited);
      // Same name, another owner: refused, and the running container is left alone.
      await assert.rejects(newHost().start({ ...s, logFile: s.logFile + ".3" }), /already exists and is not a leftover/);
      assert.equal(await containerGone(fresh.containerId!), false);
    } finally {
      await Promise.all([leftover.stop(0), fresh.stop(0)]);
    }
  });

  test("an engine that goes away does not leave exited or stop hanging; the next run reaps the container", async () => {
    const owner = `test-${randomBytes(4).toString("hex")}`;
    owners.add(owner);
    const lost = await startTestEngine();
    const errors: string[] = [];
    const host = createDockerHost(lost.socketPath, { owner, runId: "run-lost", engineLostTimeoutMs: 300, waitRetryMaxMs: 50, onError: (_e, what) => errors.push(what) });
    let instance: Instance | undefined;
    try {
      instance = await host.start(spec());
      await waitForPing(instance.host, instance.port, CAP_MS, instance.exited);
    } finally {
      await lost.stop();
    }
    assert.deepEqual(await withCap(instance.stop(100), "stop without an engine"), { code: null, signal: null });
    assert.ok(errors.some((e) => /has not answered for 300 ms/.test(e)), errors.join("\n"));
    // The container outlived its engine service; the next run, on a working engine, removes it.
    assert.equal(await containerGone(instance.containerId!), false);
    await newHost({ owner, runId: "run-next" }).reapLeftovers([]);
    assert.equal(await containerGone(instance.containerId!), true);
  });

  test("reapLeftovers removes this owner's containers of earlier runs, and only those", async () => {
    const owner = `test-${randomBytes(4).toString("hex")}`;
    const earlier = newHost({ owner, runId: "run-earlier" });
    const other = newHost();
    const leftovers: Instance[] = [await earlier.start(spec()), await earlier.start(spec())];
    const foreign = await other.start(spec());
    try {
      const restarted = newHost({ owner, runId: "run-now" });
      await restarted.reapLeftovers([]);
      for (const instance of leftovers) {
        await withCap(instance.exited, "leftover exited");
        assert.equal(await containerGone(instance.containerId!), true);
      }
      assert.equal(await containerGone(foreign.containerId!), false, "another Sluice's container is left alone");
      // Recorded containers go too, even without our labels' help; unknown ids are no error.
      await restarted.reapLeftovers([{ instanceId: "x", containerId: foreign.containerId }, { instanceId: "y", containerId: "0".repeat(64) }]);
      await withCap(foreign.exited, "recorded container exited");
      assert.equal(await containerGone(foreign.containerId!), true);
    } finally {
      await Promise.all([...leftovers, foreign].map((i) => i.stop(0)));
    }
  });
});
