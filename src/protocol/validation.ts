// Input constraints of InvokeEndpointWithBidirectionalStream, from the service model
// (com.amazonaws.sagemakerruntimehttp2, protocol.md §1.2). The model's EndpointName and
// TargetVariant patterns lack a closing `$`, so a bare regex test would accept "a b"; we anchor
// both ends, as the service behaves. Messages follow AWS's "1 validation error detected" form
// and name the HTTP header, so a user can see which input was wrong.

import { AwsError } from "./aws-error.js";

export const TARGET_VARIANT_HEADER = "x-amzn-sagemaker-target-variant";
export const MODEL_INVOCATION_PATH_HEADER = "x-amzn-sagemaker-model-invocation-path";
export const MODEL_QUERY_STRING_HEADER = "x-amzn-sagemaker-model-query-string";
export const INVOKED_PRODUCTION_VARIANT_HEADER = "x-amzn-invoked-production-variant";

interface Constraint {
  member: string;
  /** Where the value travels, for the message: the URL path or a header name. */
  location: string;
  maxLength: number;
  pattern: RegExp;
  patternText: string;
}

const NAME_PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$";
const QUERY_PAIR = "[a-zA-Z0-9][A-Za-z0-9_-]*=(?:[A-Za-z0-9._~\\-]|%[0-9A-Fa-f]{2})+";
const QUERY_PATTERN = `^${QUERY_PAIR}(?:&${QUERY_PAIR})*$`;
const PATH_PATTERN = "^[A-Za-z0-9\\-._]+(?:/[A-Za-z0-9\\-._]+)*$";

const constraints = {
  EndpointName: { member: "endpointName", location: "the URL path", maxLength: 63, pattern: new RegExp(NAME_PATTERN), patternText: NAME_PATTERN },
  TargetVariant: {
    member: "targetVariant",
    location: "header X-Amzn-SageMaker-Target-Variant",
    maxLength: 63,
    pattern: new RegExp(NAME_PATTERN),
    patternText: NAME_PATTERN,
  },
  ModelInvocationPath: {
    member: "modelInvocationPath",
    location: "header X-Amzn-SageMaker-Model-Invocation-Path",
    maxLength: 100,
    pattern: new RegExp(PATH_PATTERN),
    patternText: PATH_PATTERN,
  },
  ModelQueryString: {
    member: "modelQueryString",
    location: "header X-Amzn-SageMaker-Model-Query-String",
    maxLength: 2048,
    pattern: new RegExp(QUERY_PATTERN),
    patternText: QUERY_PATTERN,
  },
} satisfies Record<string, Constraint>;

export type ValidatedMember = keyof typeof constraints;

/** The constraint violation of one member, as a message; undefined when the value is fine. */
export function checkMember(member: ValidatedMember, value: string): string | undefined {
  const c: Constraint = constraints[member];
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  const at = `Value '${shown}' at '${c.member}' (${c.location}) failed to satisfy constraint: `;
  if (value.length > c.maxLength) return `${at}Member must have length less than or equal to ${c.maxLength}`;
  if (value.length === 0 && member === "EndpointName") return `${at}Member must have length greater than or equal to 1`;
  if (!c.pattern.test(value)) return `${at}Member must satisfy regular expression pattern: ${c.patternText}`;
  return undefined;
}

export interface BidiRequestInput {
  EndpointName: string;
  TargetVariant?: string | undefined;
  ModelInvocationPath?: string | undefined;
  ModelQueryString?: string | undefined;
}

/** All violations of a bidi request's inputs as one 400 InputValidationError, or undefined. */
export function validateBidiRequest(input: BidiRequestInput): AwsError | undefined {
  const problems: string[] = [];
  for (const member of ["EndpointName", "TargetVariant", "ModelInvocationPath", "ModelQueryString"] as const) {
    const value = input[member];
    if (value === undefined) continue;
    const problem = checkMember(member, value);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0) return undefined;
  const count = `${problems.length} validation error${problems.length === 1 ? "" : "s"} detected: `;
  return new AwsError("InputValidationError", 400, count + problems.join("; "));
}
