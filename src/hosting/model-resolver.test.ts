import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { AwsError } from "../protocol/aws-error.js";
import { BIDI_CAPABILITY_LABEL } from "./host.js";
import { ModelResolver, parseManifest } from "./model-resolver.js";

let work: string;
let repoRoot: string;
let resolver: ModelResolver;

async function modelDir(name: string, manifest: unknown, files: Record<string, string> = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  if (manifest !== undefined) {
    await writeFile(join(dir, "sluice-model.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest));
  }
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

async function rejectsWith(image: string, pattern: RegExp): Promise<void> {
  await assert.rejects(resolver.resolve(image), (err: unknown) => {
    assert.ok(err instanceof AwsError, `expected an AwsError, got ${String(err)}`);
    assert.equal(err.type, "ValidationException");
    assert.equal(err.status, 400);
    assert.match(err.message, pattern);
    return true;
  });
}

before(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "sluice-resolver-")));
  // A fake package root with only echo built, so "not built" is testable without touching dist/.
  repoRoot = join(work, "repo");
  await mkdir(join(repoRoot, "dist", "models", "echo"), { recursive: true });
  await writeFile(join(repoRoot, "dist", "models", "echo", "main.js"), "");
  resolver = new ModelResolver({ repoRoot, nodePath: "/opt/node/bin/node" });
});

after(() => rm(work, { recursive: true, force: true }));

describe("ModelResolver", () => {
  it("resolves sluice/echo to the compiled program run by Sluice's node, with the capability label", async () => {
    const program = join(repoRoot, "dist", "models", "echo", "main.js");
    assert.deepEqual(await resolver.resolve("sluice/echo"), {
      command: ["/opt/node/bin/node", program],
      cwd: join(repoRoot, "dist", "models", "echo"),
      env: {},
      labels: { [BIDI_CAPABILITY_LABEL]: "true" },
      resolvedImage: program,
    });
  });

  it("says when a bundled model is not built", async () => {
    await rejectsWith("sluice/transcribe", /sluice\/transcribe is not built: .*dist\/models\/transcribe\/main\.js is missing/);
  });

  it("refuses other names under the reserved sluice/ prefix", async () => {
    await rejectsWith("sluice/llama", /not a bundled model: the sluice\/ prefix is reserved for sluice\/echo, sluice\/transcribe/);
    await rejectsWith("sluice/echo:latest", /reserved/);
  });

  it("finds the real repository's echo by default", async () => {
    const real = await new ModelResolver().resolve("sluice/echo").catch((err: Error) => err);
    // Either built (the test script builds first) or a clear "not built"; never a wrong path.
    if (real instanceof Error) assert.match(real.message, /is not built/);
    else assert.match(real.resolvedImage, /dist\/models\/echo\/main\.js$/);
  });

  it("resolves a local model directory by path or file:// URL, command relative to it", async () => {
    const dir = await modelDir(
      "good",
      { command: ["./bin/serve.sh", "--fast"], env: { MODEL_NAME: "x" }, labels: { [BIDI_CAPABILITY_LABEL]: "true" } },
    );
    await mkdir(join(dir, "bin"));
    await writeFile(join(dir, "bin", "serve.sh"), "#!/bin/sh\n");
    await chmod(join(dir, "bin", "serve.sh"), 0o755);
    const expected = {
      command: [join(dir, "bin", "serve.sh"), "--fast"],
      cwd: dir,
      env: { MODEL_NAME: "x" },
      labels: { [BIDI_CAPABILITY_LABEL]: "true" },
      resolvedImage: dir,
    };
    assert.deepEqual(await resolver.resolve(dir), expected);
    assert.deepEqual(await resolver.resolve(pathToFileURL(dir).href), expected);
    // A symlinked directory resolves to the real one.
    await symlink(dir, join(work, "link"));
    assert.deepEqual(await resolver.resolve(join(work, "link")), expected);
  });

  it("runs `node` in a manifest as Sluice's own node, and leaves other bare names to PATH", async () => {
    const node = await modelDir("node", { command: ["node", "server.mjs"] });
    assert.deepEqual((await resolver.resolve(node)).command, ["/opt/node/bin/node", "server.mjs"]);
    const python = await modelDir("python", { command: ["python3", "app.py"] });
    assert.deepEqual((await resolver.resolve(python)).command, ["python3", "app.py"]);
    assert.deepEqual((await resolver.resolve(python)).labels, {});
  });

  it("explains what is wrong with a missing directory or manifest", async () => {
    await rejectsWith(join(work, "nope"), /model directory .*nope does not exist/);
    await writeFile(join(work, "file"), "");
    await rejectsWith(join(work, "file"), /is not a directory/);
    await rejectsWith(await modelDir("empty", undefined), /has no sluice-model\.json \(expected \{"command"/);
    await rejectsWith("./relative", /relative path; a local model directory must be an absolute path or a file:\/\/ URL/);
    await rejectsWith("nginx:latest", /container image reference/);
  });

  it("explains what is wrong inside a manifest", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["{not json", /sluice-model\.json is not valid JSON/],
      [[], /must hold a JSON object/],
      [{}, /"command" must be a non-empty array of strings/],
      [{ command: [] }, /"command" must be a non-empty array/],
      [{ command: "python3 app.py" }, /"command" must be a non-empty array/],
      [{ command: ["python3", 1] }, /"command" must be a non-empty array/],
      [{ command: ["x"], env: { PORT: 8080 } }, /"env\.PORT" must be a string, not 8080/],
      [{ command: ["x"], env: { "BAD-NAME": "1" } }, /invalid variable name "BAD-NAME"/],
      [{ command: ["x"], labels: ["a"] }, /"labels" must be an object of strings/],
      [{ command: ["x"], commands: ["y"] }, /unknown field "commands"/],
      [{ command: ["./missing.sh"] }, /command \.\/missing\.sh is not an executable file/],
    ];
    for (const [i, [manifest, pattern]] of cases.entries()) {
      await rejectsWith(await modelDir(`bad-${i}`, manifest), pattern);
    }
    const notExecutable = await modelDir("not-executable", { command: ["./run.sh"] }, { "run.sh": "#!/bin/sh\n" });
    await rejectsWith(notExecutable, /\.\/run\.sh is not an executable file/);
  });

  it("parses a manifest on its own, defaulting env and labels", () => {
    assert.deepEqual(parseManifest('{"command":["a"]}', "m.json"), { command: ["a"], env: {}, labels: {} });
  });
});
