// AWS error responses before the stream starts (restJson1 and AWS JSON 1.1 alike): the type in
// `x-amzn-ErrorType` and in the body's `__type`, a JSON body with `Message`. SDKs read the
// header first, then the body; writing both keeps every client happy. `parseErrorResponse` is
// the reverse, for our client.

import { AwsError } from "./aws-error.js";

export const ERROR_TYPE_HEADER = "x-amzn-ErrorType";
export const REQUEST_ID_HEADER = "x-amzn-RequestId";

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function errorResponse(error: AwsError): ErrorResponse {
  return {
    status: error.status,
    headers: { ...error.headers, [ERROR_TYPE_HEADER]: error.type, "content-type": "application/json" },
    body: JSON.stringify(error.toJSON()),
  };
}

/**
 * Reads an error response. The type comes from `x-amzn-errortype`, else the body's `__type` or
 * `code`, cut down to the bare shape name as SDKs do ("ns#Type:http://..." → "Type").
 */
export function parseErrorResponse(status: number, headers: Record<string, string | string[] | undefined>, body: string): AwsError {
  let members: Record<string, unknown> = {};
  try {
    const parsed: unknown = body === "" ? {} : JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) members = parsed as Record<string, unknown>;
  } catch {
    members = {};
  }
  const headerType = headers[ERROR_TYPE_HEADER.toLowerCase()];
  const raw =
    (Array.isArray(headerType) ? headerType[0] : headerType) ??
    (typeof members["__type"] === "string" ? members["__type"] : undefined) ??
    (typeof members["code"] === "string" ? members["code"] : undefined) ??
    "UnknownError";
  const type = raw.split(":")[0]!.split("#").at(-1)!;
  const message = String(members["Message"] ?? members["message"] ?? (body === "" ? `HTTP ${status}` : body.slice(0, 512)));
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(members)) {
    if (key !== "__type" && key !== "message" && key !== "code") fields[key] = value;
  }
  return new AwsError(type, status, message, { fields });
}
