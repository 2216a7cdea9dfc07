// Issue 5: `--tls-cert/--tls-key` serve TLS with ALPN h2 and http/1.1 on the same port, tested
// with a throw-away self-signed certificate from Debian's openssl, the AWS SDK and the Sluice client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { ListEndpointsCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client } from "../src/client/index.js";
import { deployAt } from "./helpers/deploy.js";
import { startSluice, TEST_KEY, type SluiceProcess } from "./helpers/sluice.js";

let sluice: SluiceProcess;
let dir: string;
let ca: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-tls-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1",
  ], { stdio: "ignore" });
  ca = readFileSync(cert);
  sluice = await startSluice({ args: ["--tls-cert", cert, "--tls-key", key] });
});

after(async () => {
  await sluice.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("the bound URL is https and ALPN offers h2 and http/1.1", async () => {
  assert.match(sluice.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(new URL(sluice.url).port);
  for (const protocol of ["h2", "http/1.1"]) {
    const negotiated = await new Promise<string | false | null>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca, ALPNProtocols: [protocol] }, () => {
        resolve(socket.alpnProtocol);
        socket.end();
      });
      socket.on("error", reject);
    });
    assert.equal(negotiated, protocol);
  }
});

test("the AWS SDK deploys over HTTPS, and the Sluice client streams over TLS", async () => {
  const trustTestCa = { requestHandler: { httpsAgent: new https.Agent({ ca }) } };
  const sm = new SageMakerClient({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY, ...trustTestCa });
  await deployAt(sluice.url, "echo", { clientConfig: trustTestCa });
  const listed = await sm.send(new ListEndpointsCommand({}));
  assert.deepEqual(listed.Endpoints?.map((e) => [e.EndpointName, e.EndpointStatus]), [["echo", "InService"]]);
  sm.destroy();

  const client = new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY, tls: { ca } });
  async function* input() {
    yield { PayloadPart: { Bytes: new TextEncoder().encode("over tls"), DataType: "UTF8" as const } };
    yield { PayloadPart: { Bytes: new Uint8Array([0, 1, 2]), DataType: "BINARY" as const } };
    yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"CloseStream"}'), DataType: "UTF8" as const } };
  }
  const out = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: input() }));
  assert.equal(out.InvokedProductionVariant, "AllTraffic");
  const got: [string | undefined, number[]][] = [];
  for await (const event of out.Body) got.push([event.PayloadPart?.DataType, [...(event.PayloadPart?.Bytes ?? [])]]);
  assert.deepEqual(got, [
    ["UTF8", [...new TextEncoder().encode("over tls")]],
    ["BINARY", [0, 1, 2]],
    ["UTF8", [...new TextEncoder().encode('{"type":"CloseStream"}')]],
  ]);
  client.destroy();
});

test("a client that does not trust the certificate is refused by TLS, not served", async () => {
  const client = new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY });
  async function* input() {}
  await assert.rejects(client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "echo", Body: input() })), /self[- ]signed|certificate/i);
  client.destroy();
});
