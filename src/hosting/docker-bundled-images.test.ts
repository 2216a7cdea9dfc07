import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { entrypointFiles, MODEL_IMAGES } from "./docker-bundled-images.js";
import { BIDI_CAPABILITY_LABEL } from "./host.js";
import { nodeClosure, packageName } from "./docker-node-closure.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

test("every bundled image's Dockerfile sets the capability label and runs `serve`", async () => {
  for (const image of MODEL_IMAGES) {
    const text = await fs.readFile(join(ROOT, image.dockerfile), "utf8");
    assert.match(text, new RegExp(`^LABEL ${BIDI_CAPABILITY_LABEL.replace(/\./g, "\\.")}=true$`, "m"), image.dockerfile);
    assert.match(text, /^CMD \["serve"\]$/m, image.dockerfile);
    assert.match(text, /^ARG BASE_IMAGE=/m, image.dockerfile);
    if (image.context === "node") assert.equal(entrypointFiles(text).length, 1, image.dockerfile);
  }
});

test("entrypointFiles reads the staged files from an exec-form ENTRYPOINT", () => {
  assert.deepEqual(entrypointFiles('FROM x\nENTRYPOINT ["/usr/bin/node", "/opt/sluice/dist/models/echo/main.js"]\n'), ["dist/models/echo/main.js"]);
  assert.deepEqual(entrypointFiles("ENTRYPOINT node /opt/sluice/x.js\n"), []);
  assert.deepEqual(entrypointFiles("FROM x\n"), []);
});

test("the closure of a program holds its relative imports and installed packages with their dependencies", async () => {
  const closure = await nodeClosure(ROOT, ["test/podman-test-model/server.mjs"]);
  assert.deepEqual(closure.files, ["test/podman-test-model/server.mjs"]);
  assert.deepEqual(closure.packages, ["node_modules/ws"]);
  const self = await nodeClosure(ROOT, ["src/hosting/docker-bundled-images.ts".replace(/\.ts$/, ".ts")]).catch((err: Error) => err);
  // Source files import `.js` names that exist only once compiled: the closure says what is missing.
  assert.ok(self instanceof Error && /run npm run build first/.test(self.message));
  assert.equal(packageName("@smithy/core/event-streams"), "@smithy/core");
  assert.equal(packageName("ws/lib/sender.js"), "ws");
});
