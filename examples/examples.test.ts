// The two example programs, compiled (dist/examples/*.js) and run as the README shows, against a
// Sluice that generated its own credentials into its data dir: they find the key there, talk to
// the echo endpoint, and print what they sent and what came back.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { resolveCliCredentials } from "../src/cli/api-client.js";
import { controlClient, deployEndpoint, readReport, testModelDir } from "../test/helpers/deploy.js";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { REPO_ROOT, startSluice, waitFor, type SluiceProcess } from "../test/helpers/sluice.js";

const run = promisify(execFile);

let sluice: SluiceProcess;
let reportFile: string;

/** The environment without any key, so the examples must use --data-dir's credentials file. */
function keylessEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "SLUICE_ACCESS_KEY_ID", "SLUICE_SECRET_ACCESS_KEY"]) delete env[name];
  return env;
}

before(async () => {
  sluice = await startSluice({ withTestKey: false, env: keylessEnv() });
  const credentials = resolveCliCredentials({ endpointUrl: sluice.url, region: "us-east-1", dataDir: sluice.dataDir }, {});
  assert.ok(credentials, "Sluice generated a credentials file in its data dir");
  const sm = controlClient(sluice.url, credentials);
  reportFile = join(sluice.dataDir, "recorder.jsonl");
  await Promise.all([
    deployEndpoint(sm, { name: "echo", image: "sluice/echo" }),
    deployEndpoint(sm, { name: "recorder", image: testModelDir("behaving"), environment: { MODE: "record", REPORT_FILE: reportFile } }),
  ]);
  sm.destroy();
});

after(async () => {
  await sluice?.cleanup();
});

function example(name: string, args: string[]) {
  return run(process.execPath, [join(REPO_ROOT, "dist", "examples", `${name}.js`), "--endpoint-url", sluice.url, "--data-dir", sluice.dataDir, ...args], {
    env: keylessEnv(),
    timeout: 60_000,
  });
}

test("send-words sends four phrases and prints each echo, then the session ends", async () => {
  const { stdout, stderr } = await example("send-words", ["--interval", "50ms"]);
  assert.equal(stderr, "");
  const lines = stdout.trim().split("\n");
  const phrases = ["Hello from Sluice", "streaming both ways", "over one HTTP/2 stream", "to a model's WebSocket", '{"type":"CloseStream"}'];
  assert.ok(lines.some((l) => /^Connected to echo at .* \(variant AllTraffic, request [0-9a-f-]{36}\)$/.test(l)), stdout);
  assert.deepEqual(lines.filter((l) => l.startsWith("> ")), phrases.map((p) => `> ${p}`));
  assert.deepEqual(lines.filter((l) => l.startsWith("< ")), phrases.map((p) => `< UTF8: ${p}`));
  // Each echo is printed once its phrase was sent (how far the sends run ahead is timing).
  for (let i = 0; i < phrases.length; i++) {
    assert.ok(lines.indexOf(`< UTF8: ${phrases[i]}`) > lines.indexOf(`> ${phrases[i]}`), `echo ${i} after its send:\n${stdout}`);
  }
  assert.equal(lines.at(-1), "Session ended.");
});

test("stream-file streams a file in 512 KB binary chunks and CloseStream, printing every event", async () => {
  const file = join(sluice.dataDir, "sample.bin");
  const size = 3 * 512_000 + 1234;
  writeFileSync(file, randomBytes(size));
  const { stdout } = await example("stream-file", ["--endpoint-name", "echo", file]);
  const lines = stdout.trim().split("\n");
  assert.deepEqual(lines.filter((l) => l.startsWith("> ")), [
    "> BINARY chunk 1: 512000 bytes",
    "> BINARY chunk 2: 512000 bytes",
    "> BINARY chunk 3: 512000 bytes",
    "> BINARY chunk 4: 1234 bytes",
    '> UTF8: {"type":"CloseStream"}',
  ]);
  assert.deepEqual(lines.filter((l) => l.startsWith("< ")), [
    "< PayloadPart 1: BINARY COMPLETE 512000 bytes",
    "< PayloadPart 2: BINARY COMPLETE 512000 bytes",
    "< PayloadPart 3: BINARY COMPLETE 512000 bytes",
    "< PayloadPart 4: BINARY COMPLETE 1234 bytes",
    '< PayloadPart 5: UTF8 COMPLETE 22 bytes {"type":"CloseStream"}',
  ]);
  assert.equal(lines.at(-1), `Session ended: sent ${size} bytes in 4 chunks; received 5 events, ${size + 22} bytes.`);
});

test("stream-file --path and --query reach the model as the WebSocket's path and query", async () => {
  const file = join(sluice.dataDir, "small.bin");
  writeFileSync(file, randomBytes(1000));
  const query = "model=nova-3&encoding=linear16";
  const { stdout } = await example("stream-file", ["--endpoint-name", "recorder", "--path", "v1/listen", "--query", query, file]);
  assert.match(stdout, /< PayloadPart 1: BINARY COMPLETE 1000 bytes\n/);
  const opened = readReport(reportFile).filter((e) => e.event === "open");
  assert.deepEqual(opened.map((e) => ({ path: e.path, query: e.query })), [{ path: "/v1/listen", query }]);
});

test("a bad endpoint name is reported as AWS's client names the error, with exit code 1", async () => {
  const file = join(sluice.dataDir, "tiny.bin");
  writeFileSync(file, "x");
  await assert.rejects(example("stream-file", ["--endpoint-name", "no-such-endpoint", file]), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(String(err.stderr), /InputValidationError \[HTTP 400\]: Endpoint no-such-endpoint of account 000000000000 not found\./);
    return true;
  });
});

test("the send-words command that `sluice serve --deploy-examples` (npm start) prints runs as printed (with a 50 ms interval)", async () => {
  const started = await startSluice({ withTestKey: false, env: keylessEnv(), args: ["--deploy-examples"] });
  try {
    const line = await waitFor("the Try: line", () => started.output().split("\n").find((l) => l.includes("send-words")), 30_000, 50);
    const [program, script, ...args] = line.trim().split(/\s+/);
    assert.equal(program, "node");
    assert.equal(script, "dist/examples/send-words.js");
    assert.deepEqual(args, ["--endpoint-url", started.url, "--data-dir", started.dataDir]);
    const credentials = resolveCliCredentials({ endpointUrl: started.url, region: "us-east-1", dataDir: started.dataDir }, {});
    const sm = controlClient(started.url, credentials);
    try {
      await waitFor("the echo example InService", async () => {
        const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "echo" }));
        return d.EndpointStatus === "InService" ? true : undefined;
      }, 60_000, 100);
    } finally {
      sm.destroy();
    }
    const { stdout } = await run(process.execPath, [script!, ...args, "--interval", "50ms"], { cwd: REPO_ROOT, env: keylessEnv(), timeout: 60_000 });
    assert.equal(stdout.trim().split("\n").filter((l) => l.startsWith("< UTF8: ")).length, 5, stdout);
    assert.match(stdout, /Session ended\.\n$/);
  } finally {
    await started.cleanup();
  }
});
