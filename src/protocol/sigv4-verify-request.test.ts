import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { getSigningKey } from "@smithy/signature-v4";
import { AwsError } from "./aws-error.js";
import { Sha256 } from "./sigv4-canonical-request.js";
import { signRequest } from "./sigv4-sign-request.js";
import { createSigningKeySource } from "./sigv4-signing-key.js";
import { STREAMING_PAYLOAD, verifyRequest, type RequestToVerify, type VerifyRequestOptions } from "./sigv4-verify-request.js";
import {
  ACCESS_KEY_ID,
  AUTHORITY,
  CAPTURE_TIME,
  REGION,
  requestHeaders,
  RUNS,
  SECRET_ACCESS_KEY,
  SEED_SIGNATURES,
} from "../../test/fixtures/real-client/index.js";

const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
const options = (over: Partial<VerifyRequestOptions> = {}): VerifyRequestOptions => ({
  lookupCredentials: (id) => (id === ACCESS_KEY_ID ? { secretAccessKey: SECRET_ACCESS_KEY } : undefined),
  now: () => CAPTURE_TIME,
  ...over,
});

function captured(run: (typeof RUNS)[number]): RequestToVerify & { headers: Record<string, string> } {
  const { headers } = requestHeaders(run);
  return { method: headers[":method"]!, target: headers[":path"]!, headers };
}

function awsError(fn: () => unknown): AwsError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AwsError, String(err));
    return err;
  }
  assert.fail("expected an AwsError");
}

for (const run of RUNS) {
  test(`${run}: AWS's signed request verifies`, () => {
    const request = captured(run);
    assert.equal(request.headers[":authority"], AUTHORITY);
    const verified = verifyRequest(request, options());
    assert.equal(verified.seedSignature, SEED_SIGNATURES[run]);
    assert.equal(verified.accessKeyId, ACCESS_KEY_ID);
    assert.equal(verified.region, REGION);
    assert.equal(verified.service, "sagemaker");
    assert.equal(verified.scope, "20261125/us-west-2/sagemaker/aws4_request");
    assert.equal(verified.streaming, true);
    assert.equal(verified.signedHeaders[0], ":authority");
    assert.doesNotMatch(JSON.stringify(verified), /wJalr/);
  });
}

test("every signed header, the method and the path are covered", () => {
  const base = captured("run1-three-events");
  for (const name of ["amz-sdk-invocation-id", "content-type", "x-amz-user-agent", "x-amzn-sagemaker-model-query-string", ":authority"]) {
    const request = { ...base, headers: { ...base.headers, [name]: base.headers[name] + "x" } };
    assert.equal(awsError(() => verifyRequest(request, options())).type, "InvalidSignatureException", name);
  }
  // user-agent is not signed: changing it is fine.
  verifyRequest({ ...base, headers: { ...base.headers, "user-agent": "other" } }, options());
  assert.equal(awsError(() => verifyRequest({ ...base, method: "PUT" }, options())).type, "InvalidSignatureException");
  assert.equal(
    awsError(() => verifyRequest({ ...base, target: base.target.replace("echo-endpoint", "other") }, options())).type,
    "InvalidSignatureException",
  );
  assert.equal(awsError(() => verifyRequest({ ...base, target: base.target + "?a=b" }, options())).type, "InvalidSignatureException");
});

test("host over HTTP/1.1 stands in for a signed :authority, and the other way round", async () => {
  const base = captured("run2-600k-binary");
  const { [":authority"]: authority, ...rest } = base.headers;
  verifyRequest({ ...base, headers: { ...rest, host: authority! } }, options());

  const signed = await signRequest({
    method: "POST",
    path: "/endpoints/e/invocations-bidirectional-stream",
    headers: { host: "localhost:8443", "x-amz-content-sha256": STREAMING_PAYLOAD },
    region: "eu-west-1",
    credentials,
    date: new Date(CAPTURE_TIME),
  });
  const { host, ...h2 } = signed.headers;
  verifyRequest({ method: "POST", target: "/endpoints/e/invocations-bidirectional-stream", headers: { ...h2, ":authority": host! } }, options());
});

test("a request signed by signRequest verifies, with its body hash and query", async () => {
  const body = JSON.stringify({ EndpointName: "x" });
  const signed = await signRequest({
    method: "POST",
    path: "/",
    query: { b: "2 3", a: ["z", "y"] },
    headers: { ":authority": "127.0.0.1:1234", "content-type": "application/x-amz-json-1.1", "x-amz-target": "SageMaker.ListEndpoints" },
    body,
    region: "us-east-1",
    credentials,
    date: new Date(CAPTURE_TIME),
  });
  assert.match(signed.headers["authorization"]!, /SignedHeaders=:authority;content-type;x-amz-content-sha256;x-amz-date;x-amz-target,/);
  const bodySha256 = createHash("sha256").update(body).digest("hex");
  const request = { method: "POST", target: "/?a=z&b=2%203&a=y", headers: signed.headers, bodySha256 };
  const verified = verifyRequest(request, options());
  assert.equal(verified.seedSignature, signed.signature);
  assert.equal(verified.streaming, false);
  assert.equal(verified.region, "us-east-1");
  // The body must be the one that was signed.
  const other = { ...request, bodySha256: "0".repeat(64) };
  assert.equal(awsError(() => verifyRequest(other, options())).type, "InvalidSignatureException");
});

test("a streaming request must say so in x-amz-content-sha256", () => {
  const base = captured("run2-600k-binary");
  const { ["x-amz-content-sha256"]: _, ...rest } = base.headers;
  assert.equal(awsError(() => verifyRequest({ ...base, headers: rest }, options())).type, "InvalidSignatureException");
});

test("missing Authorization: MissingAuthenticationTokenException", () => {
  const base = captured("run1-three-events");
  const { authorization: _, ...rest } = base.headers;
  const err = awsError(() => verifyRequest({ ...base, headers: rest }, options()));
  assert.deepEqual([err.type, err.status, err.message], ["MissingAuthenticationTokenException", 403, "Missing Authentication Token"]);
});

test("unknown access key: UnrecognizedClientException", () => {
  const err = awsError(() => verifyRequest(captured("run1-three-events"), options({ lookupCredentials: () => undefined })));
  assert.deepEqual(
    [err.type, err.status, err.message],
    ["UnrecognizedClientException", 403, "The security token included in the request is invalid."],
  );
});

test("wrong secret: InvalidSignatureException with AWS's message", () => {
  const err = awsError(() =>
    verifyRequest(captured("run1-three-events"), options({ lookupCredentials: () => ({ secretAccessKey: "not-the-secret" }) })),
  );
  assert.deepEqual(
    [err.type, err.status, err.message],
    [
      "InvalidSignatureException",
      403,
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    ],
  );
  assert.doesNotMatch(err.message + JSON.stringify(err), /not-the-secret|wJalr/);
});

test("clock skew over 5 minutes either way: InvalidSignatureException in AWS's words", () => {
  const request = captured("run1-three-events");
  const past = awsError(() => verifyRequest(request, options({ now: () => CAPTURE_TIME + 15 * 60_000 })));
  assert.deepEqual(
    [past.type, past.status, past.message],
    [
      "InvalidSignatureException",
      403,
      "Signature expired: 20261125T095131Z is now earlier than 20261125T100131Z (20261125T100631Z - 5 min.)",
    ],
  );
  const future = awsError(() => verifyRequest(request, options({ now: () => CAPTURE_TIME - 15 * 60_000 })));
  assert.equal(
    future.message,
    "Signature not yet current: 20261125T095131Z is still later than 20261125T094131Z (20261125T093631Z + 5 min.)",
  );
  // Exactly 5 minutes is still accepted.
  verifyRequest(request, options({ now: () => CAPTURE_TIME + 5 * 60_000 }));
  verifyRequest(request, options({ now: () => CAPTURE_TIME - 5 * 60_000 }));
});

test("malformed Authorization headers: IncompleteSignatureException", () => {
  const base = captured("run1-three-events");
  const auth = base.headers["authorization"]!;
  const variants = [
    "Bearer abc",
    "AWS4-HMAC-SHA256",
    auth.replace(/Signature=[0-9a-f]+/, "Signature=zz"),
    auth.replace(/, Signature=[0-9a-f]+/, ""),
    auth.replace("Credential=AKIDEXAMPLE/", "Credential="),
    auth.replace("SignedHeaders=", "SignedHeaders"),
  ];
  for (const authorization of variants) {
    const err = awsError(() => verifyRequest({ ...base, headers: { ...base.headers, authorization } }, options()));
    assert.equal(err.type, "IncompleteSignatureException", authorization);
    assert.equal(err.status, 403);
  }
  const { ["x-amz-date"]: _, ...noDate } = base.headers;
  assert.equal(awsError(() => verifyRequest({ ...base, headers: noDate }, options())).type, "IncompleteSignatureException");
  const badDate = { ...base.headers, "x-amz-date": "2026-11-25T09:51:31Z" };
  assert.equal(awsError(() => verifyRequest({ ...base, headers: badDate }, options())).type, "IncompleteSignatureException");
});

test("the credential scope must name sagemaker, match the date and sign the host", () => {
  const base = captured("run1-three-events");
  const auth = base.headers["authorization"]!;
  const cases: [string, RegExp][] = [
    [auth.replace("/sagemaker/", "/s3/"), /correct service: 'sagemaker'/],
    [auth.replace("/20261125/", "/20261124/"), /Date in Credential scope does not match/],
    [auth.replace("aws4_request", "aws5_request"), /valid terminator/],
    [auth.replace("SignedHeaders=:authority;", "SignedHeaders="), /'Host' or ':authority'/],
  ];
  for (const [authorization, message] of cases) {
    const err = awsError(() => verifyRequest({ ...base, headers: { ...base.headers, authorization } }, options()));
    assert.equal(err.type, "InvalidSignatureException");
    assert.match(err.message, message);
  }
});

test("session credentials: the token is signed and must match when the key has one", async () => {
  const signed = await signRequest({
    method: "POST",
    path: "/x",
    headers: { ":authority": "h", "x-amz-content-sha256": STREAMING_PAYLOAD },
    region: "us-east-1",
    credentials: { ...credentials, sessionToken: "tok" },
    date: new Date(CAPTURE_TIME),
  });
  assert.equal(signed.headers["x-amz-security-token"], "tok");
  const request = { method: "POST", target: "/x", headers: signed.headers };
  verifyRequest(request, options({ lookupCredentials: () => ({ secretAccessKey: SECRET_ACCESS_KEY, sessionToken: "tok" }) }));
  const err = awsError(() =>
    verifyRequest(request, options({ lookupCredentials: () => ({ secretAccessKey: SECRET_ACCESS_KEY, sessionToken: "other" }) })),
  );
  assert.equal(err.type, "UnrecognizedClientException");
});

test("signRequest refuses to sign without the host", async () => {
  await assert.rejects(
    signRequest({ method: "GET", path: "/", headers: {}, region: "us-east-1", credentials }),
    /':authority' or 'host'/,
  );
});

test("signing keys match smithy's derivation", async () => {
  const ours = createSigningKeySource(SECRET_ACCESS_KEY, "sagemaker")("20261125", REGION);
  const smithy = await getSigningKey(Sha256, credentials, "20261125", REGION, "sagemaker");
  assert.deepEqual(Buffer.from(ours), Buffer.from(smithy));
});
