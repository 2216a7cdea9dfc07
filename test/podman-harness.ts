// Test harness for anything that needs a real container engine: one private `podman system
// service` per test file (stopped after), and the small test model image built on it from the
// Node base image (made from this machine's Node, no registry). A missing or broken Podman fails
// the tests that use it: containers are part of the product, not an optional extra.

import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { BASE_IMAGES, buildBundledImages, ensureBaseImage, stageNodeContext } from "../src/hosting/docker-bundled-images.js";
import { buildContext } from "../src/hosting/docker-image-build.js";
import { startPodmanService, type PodmanService } from "../src/hosting/docker-podman-service.js";
import { BIDI_CAPABILITY_LABEL } from "../src/hosting/host.js";

export const PROJECT_ROOT = resolve(fileURLToPath(import.meta.url), "../..");

/** Caps against hangs only; raise them on a slow machine. */
export const PODMAN_READY_TIMEOUT_MS = Number(process.env.SLUICE_TEST_PODMAN_READY_MS ?? 60_000);

export type TestEngine = PodmanService;

export async function startTestEngine(): Promise<TestEngine> {
  try {
    return await startPodmanService({ readyTimeoutMs: PODMAN_READY_TIMEOUT_MS });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(these tests need Podman: run sudo scripts/setup-podman.sh)`, { cause: err });
  }
}

export interface TestModelImages {
  /** With the bidi capability label. */
  labelled: string;
  /** Without it. */
  unlabelled: string;
}

/** Builds test/podman-test-model on the engine (the Node base comes first, if not current). */
export async function buildTestModelImages(docker: Docker): Promise<TestModelImages> {
  const version = (JSON.parse(await fs.readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
  const base = await ensureBaseImage(docker, BASE_IMAGES.node, version, false, () => {});
  const context = await fs.mkdtemp(join(tmpdir(), "sluice-test-model-"));
  try {
    await stageNodeContext(PROJECT_ROOT, join(PROJECT_ROOT, "test/podman-test-model/Dockerfile"), context);
    const images: TestModelImages = { labelled: "localhost/sluice-test-model:labelled", unlabelled: "localhost/sluice-test-model:unlabelled" };
    await buildContext(docker, context, images.unlabelled, { buildArgs: { BASE_IMAGE: base.reference } });
    await buildContext(docker, context, images.labelled, { buildArgs: { BASE_IMAGE: base.reference }, labels: { [BIDI_CAPABILITY_LABEL]: "true" } });
    return images;
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
}

/** Resolves once `GET http://host:port/ping` answers 200; rejects after `timeoutMs` (a hang cap). */
export async function waitForPing(host: string, port: number, timeoutMs = 30_000, gone?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void gone?.then(() => (exited = true));
  let last: unknown;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (exited) throw new Error(`the instance on ${host}:${port} exited before answering /ping`);
    try {
      const res = await fetch(`http://${host}:${port}/ping`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = new Error(`status ${res.status}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`no /ping from ${host}:${port} within ${timeoutMs} ms: ${(last as Error)?.message}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Builds one of the bundled images (docker-bundled-images.ts) on the engine; its reference. */
export async function buildBundledImage(docker: Docker, name: string): Promise<string> {
  const built = await buildBundledImages(docker, { projectRoot: PROJECT_ROOT, only: [name] });
  return built[built.length - 1].reference;
}
