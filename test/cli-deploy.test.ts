// Issue 2 scope 8: the `sluice` client commands against a running Sluice — deploy (progress,
// InService or the failure reason with log lines), endpoints, instances, logs, delete — and how
// the CLI finds its credentials: flags, then SLUICE_*, then AWS_*, then <data-dir>/credentials.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseCredentialsIni } from "../src/server/credentials.js";
import { EXITS_AT_ONCE_MODEL, isAlive, writeLocalModel, type Credentials, type InstanceRow } from "./helpers/control.js";
import { SLUICE_BIN, startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("the sluice CLI", () => {
  let sluice: SluiceProcess;
  let scratch: string;
  let emptyDir: string;
  let key: Credentials;
  const wrong = (k: Credentials): Credentials => ({ accessKeyId: k.accessKeyId, secretAccessKey: `${k.secretAccessKey}-wrong` });

  /** Runs `sluice ARGS` with only the environment given (nothing of ours leaks in), in a scratch cwd. */
  function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SLUICE_BIN, ...args, "--endpoint-url", sluice.url], {
        cwd: scratch,
        env: { PATH: process.env.PATH, HOME: scratch, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const cap = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(cap);
        resolve({ code, stdout, stderr });
      });
    });
  }
  const sluiceEnv = (k: Credentials) => ({ SLUICE_ACCESS_KEY_ID: k.accessKeyId, SLUICE_SECRET_ACCESS_KEY: k.secretAccessKey });
  const awsEnv = (k: Credentials) => ({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey });
  const keyFlags = (k: Credentials) => ["--access-key-id", k.accessKeyId, "--secret-access-key", k.secretAccessKey];

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-cli-"));
    emptyDir = mkdtempSync(join(tmpdir(), "sluice-cli-nokeys-"));
    // No key configured: Sluice generates one into its data dir, as on a user's first start.
    sluice = await startSluice({ withTestKey: false, env: { SLUICE_ACCESS_KEY_ID: "", SLUICE_SECRET_ACCESS_KEY: "" } });
    const file = join(sluice.dataDir, "credentials");
    const keys = parseCredentialsIni(readFileSync(file, "utf8"), file);
    assert.equal(keys.length, 1);
    key = { accessKeyId: keys[0]!.accessKeyId, secretAccessKey: keys[0]!.secretAccessKey };
  });
  after(async () => {
    await sluice?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it("a Sluice without a configured key generated one into <data-dir>/credentials (0600) and showed it once", async () => {
    const file = join(sluice.dataDir, "credentials");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // The banner follows the URL line; wait for its last line.
    const out = await waitFor("the start-up banner", () => (sluice.output().includes("Credentials file:") ? sluice.output() : undefined));
    assert.match(out, new RegExp(`aws_access_key_id     = ${key.accessKeyId}\\n`));
    assert.match(out, new RegExp(`aws_secret_access_key = ${key.secretAccessKey.replace(/[+/=]/g, "\\$&")}\\n`));
    assert.ok(out.includes(`Credentials file: ${file}`));
  });

  let pids: number[] = [];

  it("deploy NAME --image sluice/echo --instances 2 shows progress and ends InService", async () => {
    const r = await cli(["deploy", "cli-echo", "--image", "sluice/echo", "--instances", "2"], sluiceEnv(key));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "Creating endpoint cli-echo (sluice/echo, 2 instances)");
    assert.match(lines[1]!, /^ {2}Creating: /, "progress while the instances start");
    assert.match(r.stdout, /^ {2}InService: cli-echo-AllTraffic-[0-9a-f]+ Healthy, cli-echo-AllTraffic-[0-9a-f]+ Healthy$/m);
    assert.equal(lines.at(-1), "Endpoint cli-echo is InService: arn:aws:sagemaker:us-east-1:000000000000:endpoint/cli-echo");
  });

  it("endpoints lists it, as a table and as JSON", async () => {
    const table = await cli(["endpoints"], sluiceEnv(key));
    assert.equal(table.code, 0, table.stderr);
    const [head, ...rows] = table.stdout.trimEnd().split("\n");
    assert.match(head!, /^NAME +STATUS +CREATED +ARN$/);
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /^cli-echo +InService +\d{4}-\d\d-\d\dT[\d:.]+Z +arn:aws:sagemaker:us-east-1:000000000000:endpoint\/cli-echo$/);
    const json = await cli(["endpoints", "--json"], sluiceEnv(key));
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      parsed.map((e) => [e.EndpointName, e.EndpointStatus]),
      [["cli-echo", "InService"]],
    );
  });

  it("instances --json gives endpoint, variant, instance id, pid, port, state, sessions, restarts and start time of live processes", async () => {
    const r = await cli(["instances", "--json"], sluiceEnv(key));
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as InstanceRow[];
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.EndpointName, "cli-echo");
      assert.equal(row.VariantName, "AllTraffic");
      assert.match(row.InstanceId, /^cli-echo-AllTraffic-[0-9a-f]+$/);
      assert.equal(typeof row.Pid, "number");
      assert.ok(isAlive(row.Pid!), `pid ${row.Pid} is alive`);
      assert.ok(Number.isInteger(row.Port) && row.Port > 0);
      assert.equal(row.State, "Healthy");
      assert.equal(row.ActiveSessions, 0);
      assert.equal(row.Restarts, 0);
      assert.ok(Math.abs(row.StartedAt * 1000 - Date.now()) < 10 * 60_000, "StartedAt is epoch seconds of this run");
    }
    pids = rows.map((row) => row.Pid!);

    const table = await cli(["instances", "--endpoint", "cli-echo"], sluiceEnv(key));
    assert.equal(table.code, 0, table.stderr);
    const [head, ...lines] = table.stdout.trimEnd().split("\n");
    assert.match(head!, /^ENDPOINT +VARIANT +INSTANCE +PID +PORT +STATE +SESSIONS +RESTARTS +STARTED$/);
    assert.equal(lines.length, 2);
    for (const row of rows) {
      assert.ok(
        lines.some((l) => new RegExp(`^cli-echo +AllTraffic +${row.InstanceId} +${row.Pid} +${row.Port} +Healthy +0 +0 +\\d{4}-`).test(l)),
        `a row for ${row.InstanceId}`,
      );
    }
  });

  it("logs NAME prints each instance's log, prefixed with its instance id", async () => {
    const r = await cli(["logs", "cli-echo"], sluiceEnv(key));
    assert.equal(r.code, 0, r.stderr);
    const ids = new Set([...r.stdout.matchAll(/^\[(cli-echo-AllTraffic-[0-9a-f]+)\] /gm)].map((m) => m[1]));
    assert.equal(ids.size, 2, r.stdout);
    for (const id of ids) assert.match(r.stdout, new RegExp(`^\\[${id}\\] \\[sluice\\] \\S+ starting instance ${id} on port \\d+`, "m"));
  });

  it("deploy of a model that fails exits non-zero, printing the FailureReason with its log lines", async () => {
    const image = writeLocalModel(scratch, "broken", EXITS_AT_ONCE_MODEL);
    const r = await cli(["deploy", "cli-broken", "--image", image], sluiceEnv(key));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Creating endpoint cli-broken \(.*broken, 1 instance\)$/m);
    assert.match(r.stderr, /^sluice: endpoint cli-broken did not deploy:\nInstance cli-broken-AllTraffic-[0-9a-f]+ of variant AllTraffic exited \(code 3\) before answering GET \/ping\. Last log lines: /);
    assert.match(r.stderr, /exits-at-once: FATAL cannot open weights file \/models\/missing\.bin/);
  });

  it("deploy of an existing endpoint updates it; a failing update exits non-zero and leaves the old instances serving", async () => {
    const again = await cli(["deploy", "cli-echo", "--image", "sluice/echo", "--instances", "1"], sluiceEnv(key));
    assert.equal(again.code, 0, again.stderr);
    const lines = again.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "Updating endpoint cli-echo (sluice/echo, 1 instance)");
    assert.equal(lines.at(-1), "Endpoint cli-echo is InService: arn:aws:sagemaker:us-east-1:000000000000:endpoint/cli-echo");
    const serving = JSON.parse((await cli(["instances", "--json", "--endpoint", "cli-echo"], sluiceEnv(key))).stdout) as InstanceRow[];
    assert.equal(serving.length, 1);
    assert.ok(!pids.includes(serving[0]!.Pid!), "the update replaced the instances");
    await waitFor("the first deployment's instances to exit", () => (pids.every((p) => !isAlive(p)) ? true : undefined), 30_000);

    const image = writeLocalModel(scratch, "broken-update", EXITS_AT_ONCE_MODEL);
    const failed = await cli(["deploy", "cli-echo", "--image", image], sluiceEnv(key));
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^Updating endpoint cli-echo /);
    assert.match(failed.stderr, /^sluice: endpoint cli-echo did not deploy:\nInstance cli-echo-AllTraffic-[0-9a-f]+ of variant AllTraffic exited \(code 3\) before answering GET \/ping\./);
    assert.match(failed.stderr, /exits-at-once: FATAL cannot open weights file/);
    const after = JSON.parse((await cli(["instances", "--json", "--endpoint", "cli-echo"], sluiceEnv(key))).stdout) as InstanceRow[];
    assert.deepEqual(
      after.map((r) => [r.InstanceId, r.Pid, r.State]),
      [[serving[0]!.InstanceId, serving[0]!.Pid, "Healthy"]],
    );
    pids = after.map((r) => r.Pid!);
  });

  it("delete NAME waits until the endpoint is gone and its instances with it", async () => {
    const r = await cli(["delete", "cli-echo"], sluiceEnv(key));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Deleting endpoint cli-echo\nEndpoint cli-echo is deleted\n");
    for (const pid of pids) assert.equal(isAlive(pid), false, `instance ${pid} is gone`);
    const left = JSON.parse((await cli(["endpoints", "--json"], sluiceEnv(key))).stdout) as Record<string, unknown>[];
    assert.deepEqual(left.map((e) => e.EndpointName), ["cli-broken"]);
    const again = await cli(["delete", "cli-echo"], sluiceEnv(key));
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'sluice: Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/cli-echo".\n');
  });

  describe("credentials: flags, then SLUICE_*, then AWS_*, then <data-dir>/credentials", () => {
    const SIGNATURE_MISMATCH = /^sluice: The request signature we calculated does not match/;
    const cases: { name: string; args: () => string[]; env: () => Record<string, string>; ok: boolean }[] = [
      { name: "the data dir's credentials file alone", args: () => ["--data-dir", sluice.dataDir], env: () => ({}), ok: true },
      { name: "SLUICE_DATA_DIR names the data dir", args: () => [], env: () => ({ SLUICE_DATA_DIR: sluice.dataDir }), ok: true },
      { name: "AWS_* alone", args: () => ["--data-dir", emptyDir], env: () => awsEnv(key), ok: true },
      { name: "AWS_* before the file (wrong AWS_*, right file)", args: () => ["--data-dir", sluice.dataDir], env: () => awsEnv(wrong(key)), ok: false },
      { name: "SLUICE_* before AWS_* (right SLUICE_*, wrong AWS_*)", args: () => ["--data-dir", emptyDir], env: () => ({ ...sluiceEnv(key), ...awsEnv(wrong(key)) }), ok: true },
      { name: "SLUICE_* before AWS_* (wrong SLUICE_*, right AWS_*)", args: () => ["--data-dir", emptyDir], env: () => ({ ...sluiceEnv(wrong(key)), ...awsEnv(key) }), ok: false },
      { name: "flags before SLUICE_* (right flags, wrong SLUICE_*)", args: () => keyFlags(key), env: () => sluiceEnv(wrong(key)), ok: true },
      { name: "flags before SLUICE_* (wrong flags, right SLUICE_*)", args: () => keyFlags(wrong(key)), env: () => sluiceEnv(key), ok: false },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.ok ? "accepted" : "refused with the signature error"}`, async () => {
        const r = await cli(["endpoints", "--json", ...c.args()], c.env());
        if (c.ok) {
          assert.equal(r.code, 0, r.stderr);
          assert.ok(Array.isArray(JSON.parse(r.stdout)));
        } else {
          assert.equal(r.code, 1);
          assert.match(r.stderr, SIGNATURE_MISMATCH);
        }
      });
    }

    it("with no credentials anywhere the request goes unsigned and Sluice refuses it", async () => {
      const r = await cli(["endpoints", "--data-dir", emptyDir]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "sluice: Missing Authentication Token\n");
    });
  });
});
