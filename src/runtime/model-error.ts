// How a runtime error names itself differs between the classic runtime (2017-05-13) and the
// HTTP/2 runtime (2025-10-01), and ModelError always points at the instance's log.
import { AwsError } from "../protocol/aws-error.js";

const CLASSIC_NAMES: Record<string, string> = {
  InputValidationError: "ValidationError",
  InternalServerError: "InternalFailure",
  ServiceUnavailableError: "ServiceUnavailable",
};

/** The same failure under the classic runtime's error names. */
export function toClassicError(err: AwsError): AwsError {
  const type = CLASSIC_NAMES[err.type];
  if (!type) return err;
  return new AwsError(type, err.status, err.message, { fields: err.fields, headers: err.headers, cause: err.cause });
}

export interface InstanceRef {
  endpointName: string;
  variantName: string;
  instanceId: string;
  logFile: string;
}

/**
 * Where the instance's log is, shaped like the CloudWatch log stream SageMaker would name so
 * tools that parse it keep working; the message carries the file path a person can open.
 */
export function logStreamArn(region: string, accountId: string, ref: InstanceRef): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${ref.endpointName}:log-stream:${ref.variantName}/${ref.instanceId}`;
}

export function modelError(
  message: string,
  ref: InstanceRef,
  arn: string,
  original?: { status?: number; message?: string },
): AwsError {
  const fields: Record<string, unknown> = { LogStreamArn: arn };
  if (original?.status !== undefined) fields.OriginalStatusCode = original.status;
  if (original?.message !== undefined) fields.OriginalMessage = original.message;
  return new AwsError("ModelError", 424, `${message} (instance ${ref.instanceId}; log: ${ref.logFile})`, { fields });
}
