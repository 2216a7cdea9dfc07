// Container images through the whole platform (issue 8): Sluice started with --docker-host on a
// private Podman service, endpoints deployed with the AWS SDK, streamed to with the Sluice client.
// This file builds the images it needs once, in `before`. It needs the composition root to add
// the Docker host when --docker-host is set (src/server/app.ts, one line; see the docker branch
// notes).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import type Docker from "dockerode";
import {
  InvokeEndpointWithBidirectionalStreamCommand,
  ModelError,
  ModelStreamError,
  SageMakerRuntimeHTTP2Client,
} from "../src/client/index.js";
import { LABEL_ENDPOINT, LABEL_INSTANCE_ID, LABEL_MANAGED } from "../src/hosting/docker-labels.js";
import { buildBundledImage, buildTestModelImages, startTestEngine, type TestEngine } from "./podman-harness.js";
import { deployAt, sagemaker } from "./helpers/deploy.js";
import { startSluice, TEST_KEY, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const CAP_MS = Number(process.env.SLUICE_TEST_CAP_MS ?? 120_000);

let engine: TestEngine;
let sluice: SluiceProcess;
let echoImage: string;
let unlabelledImage: string;
let pythonImage: string;

const utf8 = (s: string) => ({ PayloadPart: { Bytes: new TextEncoder().encode(s), DataType: "UTF8" as const } });
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function startSluiceOnEngine(dataDir?: string): Promise<SluiceProcess> {
  return startSluice({ args: ["--docker-host", `unix://${engine.socketPath}`], dataDir, keepData: true });
}

function runtime(): SageMakerRuntimeHTTP2Client {
  return new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY });
}

/** Running Sluice containers of an endpoint, from the engine. */
async function containers(docker: Docker, endpoint: string): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_ENDPOINT}=${endpoint}`] } });
  return all.filter((c) => c.State === "running");
}

/** A bidi session whose input the test feeds one message at a time. */
function session(client: SageMakerRuntimeHTTP2Client, endpoint: string) {
  const queue: Array<ReturnType<typeof utf8> | null> = [];
  let wake: (() => void) | undefined;
  async function* input() {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const next = queue.shift()!;
      if (next === null) return;
      yield next;
    }
  }
  const push = (m: ReturnType<typeof utf8> | null) => {
    queue.push(m);
    wake?.();
  };
  const opened = client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: endpoint, Body: input() }));
  return { push, opened };
}

before(async () => {
  engine = await startTestEngine();
  echoImage = await buildBundledImage(engine.docker, "echo");
  unlabelledImage = (await buildTestModelImages(engine.docker)).unlabelled;
  pythonImage = await buildBundledImage(engine.docker, "byoc-python");
  sluice = await startSluiceOnEngine();
});

after(async () => {
  try {
    await sluice?.stop();
    await sluice?.cleanup();
    // keepData (for the restart test) leaves the data dir to us.
    if (sluice) await rm(sluice.dataDir, { recursive: true, force: true });
  } finally {
    // Whatever a failed test left: every container of the data dirs these tests used.
    const left = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } }).catch(() => []);
    for (const c of left) if (c.Labels[LABEL_ENDPOINT]?.startsWith("ctr-")) await engine.docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await engine?.stop();
  }
});


/** One echo session on ctr-echo, retried (every 250 ms) until the endpoint serves again after a replacement or restart. */
function echoOnceServed(client: SageMakerRuntimeHTTP2Client, word: string, what: string): Promise<string[]> {
  return waitFor(
    what,
    async () => {
      const s = session(client, "ctr-echo");
      s.push(utf8(word));
      s.push(utf8('{"type":"CloseStream"}'));
      s.push(null);
      const o = await s.opened;
      const got: string[] = [];
      for await (const event of o.Body!) if (event.PayloadPart) got.push(text(event.PayloadPart.Bytes!));
      return got;
    },
    CAP_MS,
    250,
  );
}

test("the echo image with two instances reaches InService; bidi round trips through containers", async () => {
  await deployAt(sluice.url, "ctr-echo", { image: echoImage, instances: 2 });
  const running = await containers(engine.docker, "ctr-echo");
  assert.equal(running.length, 2);
  for (const c of running) assert.ok(c.Ports.every((p) => p.IP === "127.0.0.1"), JSON.stringify(c.Ports));

  const client = runtime();
  try {
    const { push, opened } = session(client, "ctr-echo");
    push(utf8("hello container"));
    push(utf8('{"type":"CloseStream"}'));
    push(null);
    const out = await opened;
    const got: string[] = [];
    for await (const event of out.Body!) if (event.PayloadPart) got.push(text(event.PayloadPart.Bytes!));
    assert.deepEqual(got, ["hello container", '{"type":"CloseStream"}']);
  } finally {
    client.destroy();
  }
});

test("podman kill of a container mid-stream gives that session ModelStreamError; a replacement serves the next", async () => {
  const client = runtime();
  try {
    const { push, opened } = session(client, "ctr-echo");
    push(utf8('{"type":"sluice.echo.info"}'));
    const out = await opened;
    const events = out.Body![Symbol.asyncIterator]();
    const first = await events.next();
    const { instanceId } = JSON.parse(text(first.value!.PayloadPart!.Bytes!)) as { instanceId: string };
    const [victim] = await engine.docker.listContainers({ filters: { label: [`${LABEL_INSTANCE_ID}=${instanceId}`] } });
    assert.ok(victim, `a container for ${instanceId}`);
    await engine.docker.getContainer(victim.Id).kill({ signal: "SIGKILL" });
    await assert.rejects(
      (async () => {
        for (let e = await events.next(); !e.done; e = await events.next());
      })(),
      (err: unknown) => err instanceof ModelStreamError,
    );
    push(null);

    const replaced = await waitFor(
      "a replacement container",
      async () => {
        const now = await containers(engine.docker, "ctr-echo");
        return now.length === 2 && now.every((c) => c.Id !== victim.Id) ? now : undefined;
      },
      CAP_MS,
    );
    assert.equal(replaced.length, 2);
    // The next session is served (the replacement may still be coming up: retry on 503).
    const echoed = await echoOnceServed(client, "again", "a served session");
    assert.deepEqual(echoed, ["again", '{"type":"CloseStream"}']);
  } finally {
    client.destroy();
  }
});

test("an image without the capability label serves /ping but bidi to it gets 424 ModelError", async () => {
  await deployAt(sluice.url, "ctr-unlabelled", { image: unlabelledImage });
  const client = runtime();
  try {
    const { push, opened } = session(client, "ctr-unlabelled");
    push(null);
    await assert.rejects(opened, (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.$metadata.httpStatusCode, 424);
      return true;
    });
  } finally {
    client.destroy();
  }
});

test("an image that is not present fails the endpoint with a reason saying to build or load it", async () => {
  const sm = sagemaker(sluice.url);
  try {
    const image = "localhost/sluice-not-built:0.0.0";
    await sm.send(new CreateModelCommand({ ModelName: "ctr-missing-model", PrimaryContainer: { Image: image } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "ctr-missing-config",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "ctr-missing-model", InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: "ctr-missing", EndpointConfigName: "ctr-missing-config" }));
    const failed = await waitFor(
      "the endpoint to fail",
      async () => {
        const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "ctr-missing" }));
        return d.EndpointStatus === "Failed" ? d : undefined;
      },
      CAP_MS,
    );
    assert.match(failed.FailureReason ?? "", /not present/);
    assert.match(failed.FailureReason ?? "", /build it/);
  } finally {
    sm.destroy();
  }
});

test("UpdateEndpoint to a new image drains the old containers without cutting their sessions", async () => {
  await deployAt(sluice.url, "ctr-update", { image: echoImage });
  const sm = sagemaker(sluice.url);
  const client = runtime();
  try {
    const { push, opened } = session(client, "ctr-update");
    push(utf8('{"type":"sluice.echo.info"}'));
    const out = await opened;
    const events = out.Body![Symbol.asyncIterator]();
    const next = async () => {
      const e = await events.next();
      return e.done ? undefined : text(e.value.PayloadPart!.Bytes!);
    };
    const { instanceId } = JSON.parse((await next())!) as { instanceId: string };

    await sm.send(new CreateModelCommand({ ModelName: "ctr-update-python", PrimaryContainer: { Image: pythonImage } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "ctr-update-python",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "ctr-update-python", InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
      }),
    );
    await sm.send(new UpdateEndpointCommand({ EndpointName: "ctr-update", EndpointConfigName: "ctr-update-python" }));
    // The new image's container comes up while the old one still serves the open session.
    await waitFor(
      "the new image's container",
      async () => (await containers(engine.docker, "ctr-update")).find((c) => c.Image === pythonImage || c.Labels["io.sluice.image"] === pythonImage),
      CAP_MS,
    );
    push(utf8("still streaming"));
    assert.equal(await next(), "still streaming");
    push(utf8('{"type":"CloseStream"}'));
    push(null);
    assert.equal(await next(), '{"type":"CloseStream"}');
    assert.equal(await next(), undefined, "the session ended normally, not with an error");

    await waitFor(
      "the rollout to finish",
      async () => ((await sm.send(new DescribeEndpointCommand({ EndpointName: "ctr-update" }))).EndpointStatus === "InService" ? true : undefined),
      CAP_MS,
    );
    const after = await waitFor(
      "only the new image's container",
      async () => {
        const now = await containers(engine.docker, "ctr-update");
        return now.length === 1 && now[0].Labels[LABEL_INSTANCE_ID] !== instanceId ? now : undefined;
      },
      CAP_MS,
    );
    assert.equal(after[0].Labels["io.sluice.image"], pythonImage);
  } finally {
    client.destroy();
    sm.destroy();
  }
});

test("Sluice killed with SIGKILL and restarted leaves no container of the old run and brings the endpoint back", async () => {
  const before = new Set((await containers(engine.docker, "ctr-echo")).map((c) => c.Id));
  assert.equal(before.size, 2);
  await sluice.stop("SIGKILL");
  // The containers outlive the Sluice that started them…
  assert.equal((await containers(engine.docker, "ctr-echo")).length, 2);
  sluice = await startSluiceOnEngine(sluice.dataDir);
  // …and the restarted one removes them and starts fresh ones.
  const fresh = await waitFor(
    "fresh containers",
    async () => {
      const all = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_ENDPOINT}=ctr-echo`] } });
      const old = all.filter((c) => before.has(c.Id));
      const running = all.filter((c) => c.State === "running" && !before.has(c.Id));
      return old.length === 0 && running.length === 2 ? running : undefined;
    },
    CAP_MS,
  );
  assert.equal(fresh.length, 2);
  const client = runtime();
  try {
    const echoed = await echoOnceServed(client, "back", "a served session after the restart");
    assert.deepEqual(echoed, ["back", '{"type":"CloseStream"}']);
  } finally {
    client.destroy();
  }
});
