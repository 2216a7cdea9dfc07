// Issue 2, "What it must show": Debian's python3-boto3 runs the SageMaker docs' deployment flow
// (test/boto3/deploy_endpoint.py, differing from the guide only in endpoint_url, Image and
// ModelDataUrl) against Sluice, and every step gets what it would get from SageMaker.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService } from "@aws-sdk/client-sagemaker";
import { ACCOUNT, isAlive, listInstances, REGION, sagemaker } from "./helpers/control.js";
import { REPO_ROOT, startSluice, TEST_KEY, type SluiceProcess } from "./helpers/sluice.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(REPO_ROOT, "test", "boto3", "deploy_endpoint.py");

interface Step {
  step: string;
  value: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON from the script
}

function runScript(env: NodeJS.ProcessEnv, onStep: (s: Step) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let buffered = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      buffered += c.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== "") onStep(JSON.parse(line) as Step);
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stderr }));
    // Never outlive the test.
    const cap = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("exit", () => clearTimeout(cap));
  });
}

describe("boto3 runs the SageMaker docs' deployment script against Sluice", () => {
  let sluice: SluiceProcess;
  let scratch: string;
  const steps = new Map<string, unknown>();
  let firstInstances: Promise<number[]> | undefined;
  let result: { code: number | null; stderr: string };
  let endpointName = "";

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-boto3-"));
    writeFileSync(join(scratch, "weights.bin"), "not really weights");
    sluice = await startSluice();

    // Another endpoint whose name matches the script's NameContains, so its MaxResults=1 listing
    // has two pages to walk.
    const sm = sagemaker(sluice);
    await sm.send(new CreateModelCommand({ ModelName: "bystander-model", PrimaryContainer: { Image: "sluice/echo" } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "bystander-config",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "bystander-model", InitialInstanceCount: 1 }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: "echo-endpoint-bystander", EndpointConfigName: "bystander-config" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "echo-endpoint-bystander" });

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: scratch,
      // Nothing from a developer's own AWS setup may leak in.
      AWS_CONFIG_FILE: join(scratch, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, "no-aws-credentials"),
      SLUICE_ENDPOINT_URL: sluice.url,
      SLUICE_MODEL_DATA_DIR: scratch,
      AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
      AWS_REGION: REGION,
    };
    result = await runScript(env, (s) => {
      steps.set(s.step, s.value);
      // While the endpoint is up, note its instances' pids, to check they are gone at the end.
      if (s.step === "describe_endpoint") {
        endpointName = s.value.EndpointName;
        firstInstances = listInstances(sluice, endpointName).then((rows) => rows.map((r) => r.Pid!));
      }
    });
  });
  after(async () => {
    await sluice?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("runs to the end with exit code 0", () => {
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      [...steps.keys()],
      ["create_model", "create_endpoint_config", "create_endpoint", "describe_endpoint", "list_endpoints", "list_tags", "describe_updated_endpoint", "deleted", "describe_after_delete"],
    );
  });

  it("creates the model, config and endpoint with ARNs in the signing region", () => {
    assert.match(steps.get("create_model") as string, new RegExp(`^arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/echo-model-\\d{14}$`));
    assert.match(steps.get("create_endpoint_config") as string, new RegExp(`^arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint-config/echo-config-\\d{14}$`));
    assert.match(steps.get("create_endpoint") as string, new RegExp(`^arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/echo-endpoint-\\d{14}$`));
  });

  it("the endpoint_in_service waiter returns an endpoint InService with two instances", () => {
    const d = steps.get("describe_endpoint") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(d.EndpointStatus, "InService");
    assert.equal(d.EndpointArn, steps.get("create_endpoint"));
    assert.match(d.EndpointConfigName, /^echo-config-\d{14}$/);
    assert.equal(d.ProductionVariants.length, 1);
    const v = d.ProductionVariants[0];
    assert.equal(v.VariantName, "variant1");
    assert.equal(v.CurrentInstanceCount, 2);
    assert.equal(v.DesiredInstanceCount, 2);
    assert.equal(v.CurrentWeight, 1);
    assert.equal(v.DesiredWeight, 1);
    assert.equal(v.DeployedImages[0].SpecifiedImage, "sluice/echo");
    // boto3 parsed the epoch seconds into datetimes (printed with their UTC offset).
    assert.match(d.CreationTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    assert.equal(d.CreationTime.slice(0, 4), String(new Date().getUTCFullYear()));
    assert.equal(d.ResponseMetadata.HTTPStatusCode, 200);
    assert.match(d.ResponseMetadata.RequestId, /^[0-9a-f-]{36}$/);
  });

  it("lists endpoints one page at a time", () => {
    assert.deepEqual(steps.get("list_endpoints"), [endpointName, "echo-endpoint-bystander"]);
  });

  it("adds and lists tags", () => {
    assert.deepEqual(steps.get("list_tags"), [{ Key: "team", Value: "speech" }]);
  });

  it("updates the endpoint to the new config", () => {
    const d = steps.get("describe_updated_endpoint") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(d.EndpointStatus, "InService");
    assert.match(d.EndpointConfigName, /^echo-config-v2-\d{14}$/);
    assert.equal(d.FailureReason, undefined);
    assert.deepEqual(
      d.ProductionVariants.map((v: Record<string, unknown>) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount]),
      [["variant2", 1, 1]],
    );
  });

  it("deletes the endpoint: the endpoint_deleted waiter returns and DescribeEndpoint is a ValidationException", async () => {
    assert.equal(steps.get("deleted"), endpointName);
    assert.deepEqual(steps.get("describe_after_delete"), {
      Code: "ValidationException",
      Message: `Could not find endpoint "arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/${endpointName}".`,
    });
    const left = await listInstances(sluice);
    assert.deepEqual(
      left.map((r) => r.EndpointName),
      ["echo-endpoint-bystander"],
      "only the bystander's instance is left",
    );
    const pids = await firstInstances!;
    assert.equal(pids.length, 2, "the endpoint ran two instances");
    for (const pid of pids) assert.equal(isAlive(pid), false, `instance ${pid} is gone`);
  });
});
