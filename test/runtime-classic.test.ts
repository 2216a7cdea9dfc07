// The classic runtime calls with AWS's unchanged @aws-sdk/client-sagemaker-runtime against the
// echo endpoint (issue 3): InvokeEndpoint echoes the body; InvokeEndpointWithResponseStream
// yields the echoed body as PayloadPart chunks; an unknown endpoint is a ValidationError.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { REGION } from "./helpers/bidi.js";
import { controlClient, deployEndpoint } from "./helpers/deploy.js";
import { startSluice, TEST_KEY, type SluiceProcess } from "./helpers/sluice.js";

let sluice: SluiceProcess;
let runtime: SageMakerRuntimeClient;

before(async () => {
  sluice = await startSluice();
  const sm = controlClient(sluice.url);
  await deployEndpoint(sm, { name: "echo", image: "sluice/echo" });
  sm.destroy();
  runtime = new SageMakerRuntimeClient({ endpoint: sluice.url, region: REGION, credentials: TEST_KEY, maxAttempts: 1 });
});

after(async () => {
  runtime?.destroy();
  await sluice?.cleanup();
});

test("InvokeEndpoint: the body comes back with its content type and the variant that served it", async () => {
  const body = JSON.stringify({ inputs: "héllo", n: 3 });
  const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: "echo", Body: Buffer.from(body), ContentType: "application/json" }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(Buffer.from(out.Body).toString("utf8"), body);
  assert.equal(out.ContentType, "application/json");
  assert.equal(out.InvokedProductionVariant, "AllTraffic");
});

test("InvokeEndpoint: a 5 MiB binary body comes back byte for byte", async () => {
  const body = randomBytes(5 * 1024 * 1024);
  const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: "echo", Body: body, ContentType: "application/octet-stream" }));
  assert.equal(Buffer.compare(Buffer.from(out.Body), body), 0);
});

test("InvokeEndpointWithResponseStream: the echoed body arrives as PayloadPart chunks that add up to it", async () => {
  const body = randomBytes(2 * 1024 * 1024);
  const out = await runtime.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: "echo", Body: body, ContentType: "application/octet-stream" }),
  );
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(out.ContentType, "application/octet-stream");
  assert.equal(out.InvokedProductionVariant, "AllTraffic");
  const chunks: Uint8Array[] = [];
  for await (const event of out.Body!) {
    assert.ok(event.PayloadPart, `only PayloadPart events, got ${Object.keys(event).join()}`);
    chunks.push(event.PayloadPart.Bytes!);
  }
  // The echo streams the body back as it reads it: 2 MiB does not arrive as one chunk.
  assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
  assert.equal(Buffer.compare(Buffer.concat(chunks), body), 0);
});

for (const [name, command] of [
  ["InvokeEndpoint", () => new InvokeEndpointCommand({ EndpointName: "no-such-endpoint", Body: Buffer.from("x") })],
  ["InvokeEndpointWithResponseStream", () => new InvokeEndpointWithResponseStreamCommand({ EndpointName: "no-such-endpoint", Body: Buffer.from("x") })],
] as const) {
  test(`${name}: an unknown endpoint is a 400 ValidationError naming it`, async () => {
    await assert.rejects(runtime.send(command() as InvokeEndpointCommand), (err: unknown) => {
      assert.ok(err instanceof ValidationError, `got ${(err as Error).name}: ${(err as Error).message}`);
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.match(err.message, /Endpoint no-such-endpoint of account 000000000000 not found/);
      return true;
    });
  });
}
