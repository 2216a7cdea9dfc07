// Request/response plumbing shared by every API on the port, for HTTP/1.1 and HTTP/2 alike.
import { AwsError } from "../protocol/aws-error.js";
import type { AnyRequest, AnyResponse } from "../runtime/http-types.js";

export type { AnyRequest, AnyResponse };

export const JSON_11 = "application/x-amz-json-1.1";

/** Reads the whole body, refusing (413) as soon as it passes `limit` rather than buffering on. */
export function readBody(req: AnyRequest, limit: number, what: string): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(declared, limit, what));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        failed = true;
        req.off("data", onData);
        req.resume();
        reject(tooLarge(size, limit, what));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on("error", (err) => {
      if (!failed) reject(err);
    });
  });
}

function tooLarge(size: number, limit: number, what: string): AwsError {
  return new AwsError("RequestEntityTooLarge", 413, `${what} of ${size} bytes or more is over the limit of ${limit} bytes.`);
}

export function sendJson(
  res: AnyResponse,
  status: number,
  body: unknown,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body));
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader("content-type", contentType);
  res.setHeader("content-length", String(payload.length));
  res.writeHead(status);
  res.end(payload);
}

/** AWS JSON 1.1 (control plane): the type travels in the body's `__type`. */
export function sendJson11Error(res: AnyResponse, err: AwsError): void {
  sendJson(res, err.status, { __type: err.type, message: err.message, Message: err.message, ...err.fields }, JSON_11, {
    "x-amzn-errortype": err.type,
    ...err.headers,
  });
}

/** restJson1 (runtime): the type travels in `x-amzn-ErrorType`, the body holds the members. */
export function sendRestJsonError(res: AnyResponse, err: AwsError): void {
  sendJson(res, err.status, { Message: err.message, ...err.fields }, "application/json", {
    "x-amzn-errortype": err.type,
    ...err.headers,
  });
}

/** Header value as one string (HTTP/2 compat can give arrays for repeated names). */
export function header(req: AnyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}
