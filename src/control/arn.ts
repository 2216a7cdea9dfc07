// SageMaker ARNs and the exact not-found / already-exists wording clients depend on
// (protocol.md §3.2): both are ValidationException, which is what SDK waiters look for.

import { validationException } from "./validate.js";
import type { AwsError } from "../protocol/aws-error.js";

export type ResourceKind = "model" | "endpoint-config" | "endpoint";

/** How SageMaker's messages name each kind. */
const NOUN: Record<ResourceKind, string> = {
  model: "model",
  "endpoint-config": "endpoint configuration",
  endpoint: "endpoint",
};

/** `arn:aws:sagemaker:{region}:{account}:{kind}/{lower-cased name}` */
export function arnFor(region: string, accountId: string, kind: ResourceKind, name: string): string {
  return `arn:aws:sagemaker:${region}:${accountId}:${kind}/${name.toLowerCase()}`;
}

export interface ParsedArn {
  region: string;
  accountId: string;
  kind: string;
  name: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const m = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]*):([0-9]{12}):([a-z0-9-]+)\/(.+)$/.exec(arn);
  if (m === null) return undefined;
  return { region: m[1]!, accountId: m[2]!, kind: m[3]!, name: m[4]! };
}

export function notFound(kind: ResourceKind, arn: string): AwsError {
  return validationException(`Could not find ${NOUN[kind]} "${arn}".`);
}

export function alreadyExists(kind: ResourceKind, arn: string): AwsError {
  return validationException(`Cannot create already existing ${NOUN[kind]} "${arn}".`);
}
