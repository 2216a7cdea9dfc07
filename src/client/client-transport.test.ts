import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RequestEventReader } from "../protocol/request-event-reader.js";
import { EventVerifier } from "../protocol/sigv4-event-verifier.js";
import { verifyRequest } from "../protocol/sigv4-verify-request.js";
import { encodeResponseEvent } from "../protocol/response-event.js";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client, type RequestStreamEvent } from "./index.js";

const credentials = { accessKeyId: "AKIDTLS", secretAccessKey: "tls-secret" };

async function* one(): AsyncGenerator<RequestStreamEvent> {
  yield { PayloadPart: { Bytes: new TextEncoder().encode("ping"), DataType: "UTF8" } };
}

function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "sluice-client-tls-"));
  try {
    const result = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    if (result.status !== 0) return undefined;
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("https endpoints use TLS with ALPN h2, trusting the CA given in `tls`", async (t) => {
  const pair = selfSignedCertificate();
  if (!pair) {
    t.skip("openssl is not available to make a test certificate");
    return;
  }
  const server = http2.createSecureServer({ ...pair, allowHTTP1: false });
  server.on("stream", (stream, headers) => {
    const verified = verifyRequest(
      { method: "POST", target: String(headers[":path"]), headers },
      { lookupCredentials: () => ({ secretAccessKey: credentials.secretAccessKey }) },
    );
    const reader = new RequestEventReader({ verifier: new EventVerifier(verified) });
    stream.respond({ ":status": 200, "x-amzn-invoked-production-variant": "AllTraffic" });
    stream.on("data", (chunk: Buffer) => {
      for (const item of reader.push(chunk)) {
        if (item.kind === "part") stream.write(encodeResponseEvent({ PayloadPart: item.part }));
        else stream.end();
      }
    });
    stream.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = new SageMakerRuntimeHTTP2Client({
    region: "us-east-1",
    endpoint: `https://127.0.0.1:${port}`,
    credentials,
    tls: { ca: pair.cert },
  });
  const untrusting = new SageMakerRuntimeHTTP2Client({ region: "us-east-1", endpoint: `https://127.0.0.1:${port}`, credentials });
  // Clients first: the server's close waits for their sessions to end.
  t.after(async () => {
    client.destroy();
    untrusting.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const output = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: one() }));
  const texts: string[] = [];
  for await (const event of output.Body) texts.push(new TextDecoder().decode(event.PayloadPart.Bytes));
  assert.deepEqual(texts, ["ping"]);
  assert.equal(output.InvokedProductionVariant, "AllTraffic");

  // Without the CA the certificate is refused.
  await assert.rejects(
    untrusting.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: one() })),
    /self[- ]signed|certificate/i,
  );
});

test("a refused connection rejects send() instead of hanging, and the next send reconnects", async (t) => {
  // A port that was just free: nothing listens there.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));

  const client = new SageMakerRuntimeHTTP2Client({ region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, credentials });
  await assert.rejects(client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: one() })), /ECONNREFUSED/);

  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.end();
    stream.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  t.after(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const output = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: one() }));
  assert.equal(output.$metadata.httpStatusCode, 200);
  for await (const _ of output.Body) assert.fail("no events expected");
});

test("a destroyed client refuses to send", async () => {
  const client = new SageMakerRuntimeHTTP2Client({ region: "us-east-1", endpoint: "http://127.0.0.1:1", credentials });
  client.destroy();
  await assert.rejects(client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: "e", Body: one() })), /destroyed/);
});
