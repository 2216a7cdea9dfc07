// One InvokeEndpointWithBidirectionalStream call. The request is signed with SigV4 (`:authority`
// signed, payload `STREAMING-AWS4-HMAC-SHA256-EVENTS`), its events start flowing at once
// (independent of the response, as the current AWS client does), and the call resolves when the
// response headers arrive: 200 gives the event iterator, anything else is thrown as AWS's
// client throws it.

import { randomUUID } from "node:crypto";
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { parseErrorResponse } from "../protocol/aws-error-response.js";
import { EventSigner } from "../protocol/sigv4-event-signer.js";
import { signRequest } from "../protocol/sigv4-sign-request.js";
import { STREAMING_PAYLOAD } from "../protocol/sigv4-verify-request.js";
import {
  INVOKED_PRODUCTION_VARIANT_HEADER,
  MODEL_INVOCATION_PATH_HEADER,
  MODEL_QUERY_STRING_HEADER,
  TARGET_VARIANT_HEADER,
} from "../protocol/validation.js";
import type { AwsCredentialIdentity } from "./credentials.js";
import {
  InputValidationError,
  InternalServerError,
  ModelError,
  SageMakerRuntimeHTTP2ServiceException,
  ServiceUnavailableError,
  type ErrorResponseInfo,
  type ResponseMetadata,
} from "./errors.js";
import type { Http2SessionPool } from "./http2-session.js";
import { pumpRequestEvents } from "./request-pump.js";
import { readResponseEvents, type StreamState } from "./response-stream.js";
import type { InvokeEndpointWithBidirectionalStreamInput, InvokeEndpointWithBidirectionalStreamOutput } from "./types.js";

export const USER_AGENT = "sluice-client/0.1.0";
/** Error bodies are small JSON documents; anything bigger is cut here. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface InvokeContext {
  pool: Http2SessionPool;
  endpoint: URL;
  region: string;
  credentials: AwsCredentialIdentity;
}

export class AbortError extends Error {
  override readonly name = "AbortError";
}

export async function invokeBidirectionalStream(
  context: InvokeContext,
  input: InvokeEndpointWithBidirectionalStreamInput,
  abortSignal?: AbortSignal,
): Promise<InvokeEndpointWithBidirectionalStreamOutput> {
  const { EndpointName, Body } = input;
  if (!EndpointName) throw new Error("No value provided for input HTTP label: EndpointName.");
  if (!Body || typeof (Body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function") {
    throw new TypeError("Body must be an AsyncIterable of { PayloadPart } events");
  }
  if (abortSignal?.aborted) throw new AbortError("Request aborted");

  const { endpoint, region, credentials } = context;
  const basePath = endpoint.pathname.replace(/\/+$/, "");
  const path = `${basePath}/endpoints/${escapeLabel(EndpointName)}/invocations-bidirectional-stream`;
  const headers: Record<string, string> = {
    ":authority": endpoint.host,
    "content-type": "application/vnd.amazon.eventstream",
    "x-amz-content-sha256": STREAMING_PAYLOAD,
    "x-amz-user-agent": USER_AGENT,
    "amz-sdk-invocation-id": randomUUID(),
    "amz-sdk-request": "attempt=1; max=1",
  };
  if (input.TargetVariant !== undefined) headers[TARGET_VARIANT_HEADER] = input.TargetVariant;
  if (input.ModelInvocationPath !== undefined) headers[MODEL_INVOCATION_PATH_HEADER] = input.ModelInvocationPath;
  if (input.ModelQueryString !== undefined) headers[MODEL_QUERY_STRING_HEADER] = input.ModelQueryString;
  const signed = await signRequest({ method: "POST", path, headers, region, credentials });

  const stream = context.pool.request({
    ...signed.headers,
    ":method": "POST",
    ":path": path,
    ":scheme": endpoint.protocol.slice(0, -1),
    "user-agent": USER_AGENT,
  });
  const state: StreamState = {};
  // A stream error with nobody reading would otherwise be an uncaught 'error' event.
  stream.on("error", () => undefined);
  const cancel = (failure: Error) => {
    state.failure ??= failure;
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  };
  const onAbort = () => cancel(new AbortError("Request aborted"));
  abortSignal?.addEventListener("abort", onAbort, { once: true });
  stream.once("close", () => abortSignal?.removeEventListener("abort", onAbort));

  const signer = new EventSigner({ seedSignature: signed.signature, region, credentials });
  pumpRequestEvents(stream, Body, signer).catch((err: unknown) =>
    cancel(err instanceof Error ? err : new Error(String(err))),
  );

  const responseHeaders = await awaitResponse(stream, state);
  const status = Number(responseHeaders[":status"]);
  const $metadata: ResponseMetadata = {
    httpStatusCode: status,
    requestId: header(responseHeaders, "x-amzn-requestid") ?? header(responseHeaders, "x-amz-request-id"),
    extendedRequestId: header(responseHeaders, "x-amz-id-2"),
    cfId: header(responseHeaders, "x-amz-cf-id"),
    attempts: 1,
    totalRetryDelay: 0,
  };
  if (status !== 200) {
    const body = await readErrorBody(stream);
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    throw toOperationError(status, responseHeaders, body, $metadata);
  }
  return {
    Body: readResponseEvents(stream, $metadata, state),
    InvokedProductionVariant: header(responseHeaders, INVOKED_PRODUCTION_VARIANT_HEADER),
    $metadata,
  };
}

function awaitResponse(stream: ClientHttp2Stream, state: StreamState): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    let streamError: Error | undefined;
    stream.once("response", (headers) => {
      stream.off("close", onClose);
      resolve(headers);
    });
    stream.once("error", (err) => (streamError = err));
    const onClose = () =>
      reject(
        state.failure ??
          streamError ??
          new Error(`The HTTP/2 stream closed before a response (code ${stream.rstCode ?? "unknown"})`),
      );
    stream.once("close", onClose);
  });
}

async function readErrorBody(stream: ClientHttp2Stream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A reset after the status line still leaves a usable status.
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString("utf8");
}

function toOperationError(
  status: number,
  headers: IncomingHttpHeaders,
  body: string,
  $metadata: ResponseMetadata,
): SageMakerRuntimeHTTP2ServiceException {
  const parsed = parseErrorResponse(status, headers as Record<string, string | string[] | undefined>, body);
  const $response: ErrorResponseInfo = { statusCode: status, headers: flatten(headers) };
  const str = (key: string) => (typeof parsed.fields[key] === "string" ? (parsed.fields[key] as string) : undefined);
  const base = { Message: parsed.message, ErrorCode: str("ErrorCode"), $metadata, $response };
  switch (parsed.type) {
    case "InputValidationError":
      return new InputValidationError(base);
    case "InternalServerError":
      return new InternalServerError(base);
    case "ServiceUnavailableError":
      return new ServiceUnavailableError(base);
    case "ModelError": {
      const code = parsed.fields["OriginalStatusCode"];
      return new ModelError({
        ...base,
        OriginalStatusCode: typeof code === "number" ? code : undefined,
        OriginalMessage: str("OriginalMessage"),
        LogStreamArn: str("LogStreamArn"),
      });
    }
    default: {
      const error = new SageMakerRuntimeHTTP2ServiceException({
        name: parsed.type,
        $fault: status >= 500 ? "server" : "client",
        message: parsed.message,
        $metadata,
        $response,
      });
      return Object.assign(error, { Message: parsed.message });
    }
  }
}

/** smithy's label encoding: encodeURIComponent plus the reserved characters it leaves alone. */
function escapeLabel(label: string): string {
  return encodeURIComponent(label).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return out;
}
