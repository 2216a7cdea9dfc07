// Issue 5: every request signed with a key Sluice knows, checked exactly as AWS checks it, with
// the real AWS SDK, boto3 and the Sluice client; one tampered event ends only its own session;
// a key added to the credentials file works after SIGHUP without a restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListEndpointsCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import {
  InvokeEndpointWithBidirectionalStreamCommand,
  SageMakerRuntimeHTTP2Client,
  type SageMakerRuntimeHTTP2ServiceException,
} from "../src/client/index.js";
import { deployAt } from "./helpers/deploy.js";
import { openRawBidi, tamperSigned, text, utf8, type RawBidi } from "./helpers/raw-bidi.js";
import { startSluice, TEST_KEY, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const FILE_KEY = { accessKeyId: "AKSLFILEKEY000000001", secretAccessKey: "file-key-secret-000000000000000000000000" };
const LATE_KEY = { accessKeyId: "AKSLLATEKEY000000001", secretAccessKey: "late-key-secret-000000000000000000000000" };
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

let sluice: SluiceProcess;
let dir: string;
let credentialsFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-auth-"));
  credentialsFile = join(dir, "credentials");
  writeFileSync(credentialsFile, `[file]\naws_access_key_id = ${FILE_KEY.accessKeyId}\naws_secret_access_key = ${FILE_KEY.secretAccessKey}\n`, { mode: 0o600 });
  sluice = await startSluice({ args: ["--credentials-file", credentialsFile] });
  await deployAt(sluice.url, "echo");
});

after(async () => {
  if (process.env.SLUICE_TEST_LOG_LEVEL) console.error(sluice.output());
  await sluice.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function controlClient(credentials: { accessKeyId: string; secretAccessKey: string }, systemClockOffset = 0): SageMakerClient {
  // One attempt: the SDK would otherwise correct its clock from the server's answer and retry.
  return new SageMakerClient({ endpoint: sluice.url, region: "us-east-1", credentials, maxAttempts: 1, systemClockOffset });
}

async function controlError(client: SageMakerClient): Promise<{ name: string; status?: number; message: string }> {
  try {
    await client.send(new ListEndpointsCommand({}));
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  } finally {
    client.destroy();
  }
  assert.fail("the request was accepted");
}

function runtimeClient(credentials: { accessKeyId: string; secretAccessKey: string }): SageMakerRuntimeHTTP2Client {
  return new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials });
}

async function echoOnce(client: SageMakerRuntimeHTTP2Client, word: string): Promise<string[]> {
  async function* input() {
    yield { PayloadPart: { Bytes: new TextEncoder().encode(word), DataType: "UTF8" as const } };
    yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"CloseStream"}'), DataType: "UTF8" as const } };
  }
  try {
    const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: input() }));
    const got: string[] = [];
    for await (const event of out.Body) if (event.PayloadPart) got.push(text(event.PayloadPart.Bytes!));
    return got;
  } finally {
    client.destroy();
  }
}

async function runtimeError(client: SageMakerRuntimeHTTP2Client): Promise<SageMakerRuntimeHTTP2ServiceException> {
  try {
    await echoOnce(client, "x");
  } catch (err) {
    return err as SageMakerRuntimeHTTP2ServiceException;
  }
  assert.fail("the stream was accepted");
}

test("control plane: the right key passes; from the environment and from the credentials file", async () => {
  for (const key of [TEST_KEY, FILE_KEY]) {
    const client = controlClient(key);
    const out = await client.send(new ListEndpointsCommand({}));
    assert.deepEqual(out.Endpoints?.map((e) => e.EndpointName), ["echo"]);
    client.destroy();
  }
});

test("control plane: unknown key, wrong secret and skewed clocks get AWS's 403s", async () => {
  const unknown = await controlError(controlClient({ accessKeyId: "AKSLNOBODY0000000000", secretAccessKey: "x" }));
  assert.deepEqual([unknown.name, unknown.status], ["UnrecognizedClientException", 403]);
  assert.equal(unknown.message, "The security token included in the request is invalid.");

  const wrong = await controlError(controlClient({ ...TEST_KEY, secretAccessKey: "not-the-secret" }));
  assert.deepEqual([wrong.name, wrong.status, wrong.message], ["InvalidSignatureException", 403, SIGNATURE_MISMATCH]);

  const past = await controlError(controlClient(TEST_KEY, -10 * 60 * 1000));
  assert.deepEqual([past.name, past.status], ["InvalidSignatureException", 403]);
  assert.match(past.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);

  const future = await controlError(controlClient(TEST_KEY, 10 * 60 * 1000));
  assert.deepEqual([future.name, future.status], ["InvalidSignatureException", 403]);
  assert.match(future.message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/);
});

test("control plane: an unsigned request is MissingAuthenticationTokenException", async () => {
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      sluice.url,
      { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "SageMaker.ListEndpoints" } },
      (r) => {
        let body = "";
        r.on("data", (c) => (body += c));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(res.body).__type, "MissingAuthenticationTokenException");
});

test("runtime: the Sluice client passes with the right key and gets AWS's 403s otherwise", async () => {
  assert.deepEqual(await echoOnce(runtimeClient(TEST_KEY), "signed"), ["signed", '{"type":"CloseStream"}']);
  const unknown = await runtimeError(runtimeClient({ accessKeyId: "AKSLNOBODY0000000000", secretAccessKey: "x" }));
  assert.deepEqual([unknown.name, unknown.$metadata.httpStatusCode], ["UnrecognizedClientException", 403]);
  const wrong = await runtimeError(runtimeClient({ ...TEST_KEY, secretAccessKey: "wrong" }));
  assert.deepEqual([wrong.name, wrong.$metadata.httpStatusCode, wrong.message], ["InvalidSignatureException", 403, SIGNATURE_MISMATCH]);
  assert.ok(wrong.$metadata.requestId, "403s carry a request id");

  const unsigned = await openRawBidi({ url: sluice.url, endpointName: "echo" });
  const headers = await unsigned.response;
  assert.equal(headers[":status"], 403);
  assert.equal(headers["x-amzn-errortype"], "MissingAuthenticationTokenException");
  unsigned.close();

  const skewed = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY, now: () => Date.now() - 6 * 60 * 1000 });
  const skewedHeaders = await skewed.response;
  assert.deepEqual([skewedHeaders[":status"], skewedHeaders["x-amzn-errortype"]], [403, "InvalidSignatureException"]);
  assert.match(JSON.parse((await skewed.body).toString()).Message, /^Signature expired/);
  skewed.close();
});

function summary(messages: Awaited<ReturnType<RawBidi["messages"]>>): unknown[] {
  return messages.map((m) => (m.kind === "event" ? text(m.event.PayloadPart.Bytes) : m.kind === "stream-error" ? m.error : m));
}

for (const [what, tamper, reason] of [
  ["one byte of the inner message changed under a valid frame", (e: Uint8Array) => tamperSigned(e), "InvalidSignature"],
  ["one byte of the signed envelope flipped on the wire", (e: Uint8Array) => {
    const copy = Uint8Array.from(e);
    copy[copy.length - 8] ^= 0x01;
    return copy;
  }, "MalformedEvent"],
] as const) {
  test(`a tampered event (${what}) ends only its own session with InternalStreamFailure ${reason}`, async () => {
    const good = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY });
    const bad = await openRawBidi({ url: sluice.url, endpointName: "echo", credentials: TEST_KEY });
    assert.equal((await good.response)[":status"], 200);
    assert.equal((await bad.response)[":status"], 200);

    await bad.send(utf8("before"));
    await good.send(utf8("one"));
    // The container has answered `before` by now: the failure must come after it.
    await bad.waitForMessages(1);
    await bad.send(utf8("tampered"), tamper);
    assert.deepEqual(summary(await bad.messages()), ["before", { kind: "InternalStreamFailure", Message: reason }]);

    await good.send(utf8("two"));
    await good.send(utf8('{"type":"CloseStream"}'));
    await good.end();
    assert.deepEqual(summary(await good.messages()), ["one", "two", '{"type":"CloseStream"}']);
    good.close();
    bad.close();
  });
}

test("a key added to the credentials file works after SIGHUP, without a restart", async () => {
  const before = await controlError(controlClient(LATE_KEY));
  assert.equal(before.name, "UnrecognizedClientException");
  appendFileSync(credentialsFile, `\n[late]\naws_access_key_id = ${LATE_KEY.accessKeyId}\naws_secret_access_key = ${LATE_KEY.secretAccessKey}\n`);
  const pid = sluice.proc.pid!;
  process.kill(pid, "SIGHUP");
  await waitFor("the new key to be accepted", async () => {
    const client = controlClient(LATE_KEY);
    try {
      await client.send(new ListEndpointsCommand({}));
      return true;
    } catch {
      return undefined;
    } finally {
      client.destroy();
    }
  }, 10_000);
  assert.deepEqual(await echoOnce(runtimeClient(LATE_KEY), "rotated"), ["rotated", '{"type":"CloseStream"}']);
  assert.equal(sluice.proc.pid, pid);
  assert.equal(sluice.proc.exitCode, null);
});

test("boto3: the right key passes; a wrong secret gets InvalidSignatureException", () => {
  const script = `
import boto3, json, sys
def call(secret):
    c = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=sys.argv[1],
                     aws_access_key_id=sys.argv[2], aws_secret_access_key=secret)
    try:
        return {"ok": [e["EndpointName"] for e in c.list_endpoints()["Endpoints"]]}
    except c.exceptions.ClientError as err:
        return {"error": err.response["Error"]["Code"], "status": err.response["ResponseMetadata"]["HTTPStatusCode"]}
print(json.dumps([call(sys.argv[3]), call("wrong")]))
`;
  const run = spawnSync("/usr/bin/python3", ["-c", script, sluice.url, TEST_KEY.accessKeyId, TEST_KEY.secretAccessKey], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [{ ok: ["echo"] }, { error: "InvalidSignatureException", status: 403 }]);
});
