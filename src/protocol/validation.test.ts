import { test } from "node:test";
import assert from "node:assert/strict";
import { checkMember, validateBidiRequest } from "./validation.js";
import { errorResponse, parseErrorResponse } from "./aws-error-response.js";
import { AwsError } from "./aws-error.js";

test("endpoint and variant names: alphanumerics with inner hyphens, at most 63", () => {
  for (const ok of ["a", "echo-endpoint", "A--b9", "x".repeat(63)]) assert.equal(checkMember("EndpointName", ok), undefined, ok);
  for (const bad of ["", "-a", "a-", "a_b", "a b", "a.b", "x".repeat(64), "é"]) {
    assert.match(checkMember("EndpointName", bad) ?? "", /at 'endpointName'/, bad);
  }
  assert.match(checkMember("TargetVariant", "All Traffic")!, /X-Amzn-SageMaker-Target-Variant/);
  assert.equal(checkMember("TargetVariant", "AllTraffic"), undefined);
});

test("model invocation path: segments of [A-Za-z0-9-._], no leading or trailing slash, at most 100", () => {
  for (const ok of ["v1/listen", "invocations-bidirectional-stream", "a.b_c-d/e", "x".repeat(100)]) {
    assert.equal(checkMember("ModelInvocationPath", ok), undefined, ok);
  }
  for (const bad of ["/v1/listen", "v1/", "v1//listen", "v1/listen?x=1", "a b", "x".repeat(101), ""]) {
    assert.match(checkMember("ModelInvocationPath", bad) ?? "", /X-Amzn-SageMaker-Model-Invocation-Path/, bad);
  }
});

test("model query string: k=v pairs with unreserved or %XX values, at most 2048", () => {
  for (const ok of ["model=nova-3", "model=nova-3&encoding=linear16", "a_b-c=%2F%20x~.", "k=" + "v".repeat(2046)]) {
    assert.equal(checkMember("ModelQueryString", ok), undefined, ok);
  }
  const bad = ["", "model", "model=", "=x", "_k=v", "k=v&", "k=v&&j=w", "k=a b", "k=%2", "k=%zz", "k=v+w", "k=" + "v".repeat(2047)];
  for (const value of bad) {
    assert.match(checkMember("ModelQueryString", value) ?? "", /X-Amzn-SageMaker-Model-Query-String/, value);
  }
  assert.match(checkMember("ModelQueryString", "k=" + "v".repeat(2047))!, /length less than or equal to 2048/);
});

test("validateBidiRequest gathers every violation into one 400 InputValidationError", () => {
  assert.equal(validateBidiRequest({ EndpointName: "echo", ModelInvocationPath: "v1/listen", ModelQueryString: "a=b" }), undefined);
  const err = validateBidiRequest({ EndpointName: "echo", TargetVariant: "-x", ModelQueryString: "bad" })!;
  assert.equal(err.type, "InputValidationError");
  assert.equal(err.status, 400);
  assert.match(err.message, /^2 validation errors detected: .*targetVariant.*; .*modelQueryString/);
});

test("error responses carry the type in header and body, and parse back", () => {
  const original = new AwsError("ModelError", 424, "refused", { fields: { OriginalStatusCode: 503, OriginalMessage: "no" } });
  const response = errorResponse(original);
  assert.equal(response.status, 424);
  assert.equal(response.headers["x-amzn-ErrorType"], "ModelError");
  assert.equal(response.headers["content-type"], "application/json");
  const lower = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const parsed = parseErrorResponse(response.status, lower, response.body);
  assert.deepEqual([parsed.type, parsed.status, parsed.message], ["ModelError", 424, "refused"]);
  assert.equal(parsed.fields["OriginalStatusCode"], 503);
  assert.equal(
    parseErrorResponse(400, { "x-amzn-errortype": "InputValidationError:http://internal.amazon.com/" }, "{}").type,
    "InputValidationError",
  );
  assert.equal(parseErrorResponse(400, {}, '{"__type":"com.amazonaws.sagemaker#ValidationException","message":"m"}').type, "ValidationException");
  assert.equal(parseErrorResponse(502, {}, "<html>").message, "<html>");
});
