// Which API a request belongs to (DESIGN §1 "one port serves everything"), the request id on
// every response, and the order of checks: body limit, then signature, then the operation.
import { createHash, randomUUID } from "node:crypto";
import type * as http2 from "node:http2";
import type { Logger } from "pino";
import { AwsError, isAwsError } from "../protocol/aws-error.js";
import { header, JSON_11, readBody, sendJson, sendJson11Error, sendRestJsonError, type AnyRequest, type AnyResponse } from "./http-io.js";

/** Who signed a request, and what the event-chain verifier needs to go on from there. */
export interface Identity {
  /** Undefined with `--auth none`. */
  accessKeyId?: string;
  /** Region from the credential scope, else the configured default. */
  region: string;
  /** Opaque to the router; the bidi runtime hands it to the event verifier. */
  chain?: unknown;
}

export interface AuthRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Hex SHA-256 of the body, or undefined when the payload hash is the streaming literal. */
  bodySha256?: string;
}

export type Authenticate = (request: AuthRequest) => Identity;

export interface ControlInput {
  target: string;
  body: Buffer;
  region: string;
  requestId: string;
}

export interface RuntimeContext {
  requestId: string;
  /** performance.now() when the request arrived: session setup time counts from here. */
  receivedAt: number;
  endpointName: string;
  identity: Identity;
  log: Logger;
}

export interface RouterDeps {
  log: Logger;
  authenticate: Authenticate;
  control: (input: ControlInput) => Promise<{ status: number; body: unknown }>;
  bidi: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, ctx: RuntimeContext) => void;
  invoke: (req: AnyRequest, res: AnyResponse, ctx: RuntimeContext, body: Buffer) => Promise<void>;
  invokeStream: (req: AnyRequest, res: AnyResponse, ctx: RuntimeContext, body: Buffer) => Promise<void>;
  /** A runtime request refused here (authentication, method), for sluice_request_errors_total. */
  runtimeRefused?: (endpointName: string, errorType: string) => void;
  ready: () => { ready: boolean; detail: unknown };
  metrics: () => Promise<{ contentType: string; body: string }>;
  limits: { maxControlBodyBytes: number; maxInvokeBodyBytes: number };
}

const RUNTIME_PATH = /^\/endpoints\/([^/]+)\/(invocations|invocations-response-stream|invocations-bidirectional-stream)$/;

export function createRequestRouter(deps: RouterDeps) {
  return (req: AnyRequest, res: AnyResponse): void => {
    const receivedAt = performance.now();
    const requestId = randomUUID();
    res.setHeader("x-amzn-RequestId", requestId);
    const log = deps.log.child({ requestId });
    route(req, res, requestId, log, receivedAt).catch((err: unknown) => {
      const known = isAwsError(err);
      if (!known) log.error({ err }, "unhandled error");
      const failure = known ? err : new AwsError("InternalServerError", 500, `Internal error; request id ${requestId}.`);
      const runtime = RUNTIME_PATH.exec(new URL(req.url ?? "/", "http://sluice.invalid").pathname);
      if (runtime) deps.runtimeRefused?.(safeDecode(runtime[1]!), failure.type);
      if (isControl(req)) sendJson11Error(res, failure);
      else sendRestJsonError(res, failure);
    });
  };

  async function route(req: AnyRequest, res: AnyResponse, requestId: string, log: Logger, receivedAt: number): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sluice.invalid");
    const method = req.method ?? "GET";

    if (method === "GET" || method === "HEAD") {
      if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" }, "application/json");
      if (url.pathname === "/readyz") {
        const { ready, detail } = deps.ready();
        return sendJson(res, ready ? 200 : 503, { ready, detail }, "application/json");
      }
      if (url.pathname === "/metrics") {
        const m = await deps.metrics();
        res.setHeader("content-type", m.contentType);
        res.writeHead(200);
        res.end(m.body);
        return;
      }
    }

    if (method === "POST" && url.pathname === "/" && header(req, "x-amz-target") !== undefined) {
      const contentType = header(req, "content-type") ?? "";
      if (!contentType.startsWith(JSON_11) && !contentType.startsWith("application/json")) {
        throw new AwsError("UnsupportedMediaTypeException", 415, `Content-Type must be ${JSON_11}, not "${contentType}".`);
      }
      const body = await readBody(req, deps.limits.maxControlBodyBytes, "A control-plane request body");
      const identity = deps.authenticate(authRequest(req, url, sha256(body)));
      const out = await deps.control({ target: header(req, "x-amz-target") as string, body, region: identity.region, requestId });
      log.debug({ target: header(req, "x-amz-target"), status: out.status }, "control");
      return sendJson(res, out.status, out.body, JSON_11);
    }

    const runtime = RUNTIME_PATH.exec(url.pathname);
    if (runtime) {
      if (method !== "POST") throw new AwsError("InputValidationError", 405, `${method} is not allowed on ${url.pathname}; use POST.`);
      const endpointName = decodeURIComponent(runtime[1]);
      const operation = runtime[2];
      if (operation === "invocations-bidirectional-stream") {
        if (req.httpVersionMajor !== 2) {
          throw new AwsError("InputValidationError", 400, "InvokeEndpointWithBidirectionalStream requires HTTP/2.");
        }
        const identity = deps.authenticate(authRequest(req, url, undefined));
        deps.bidi(req as http2.Http2ServerRequest, res as http2.Http2ServerResponse, { requestId, receivedAt, endpointName, identity, log });
        return;
      }
      const body = await readBody(req, deps.limits.maxInvokeBodyBytes, "An InvokeEndpoint request body");
      const identity = deps.authenticate(authRequest(req, url, sha256(body)));
      const ctx = { requestId, receivedAt, endpointName, identity, log };
      if (operation === "invocations") return deps.invoke(req, res, ctx, body);
      return deps.invokeStream(req, res, ctx, body);
    }

    throw new AwsError("UnknownOperationException", 404, `No operation at ${method} ${url.pathname}.`);
  }
}

function isControl(req: AnyRequest): boolean {
  return header(req, "x-amz-target") !== undefined;
}

function sha256(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

function authRequest(req: AnyRequest, _url: URL, bodySha256: string | undefined): AuthRequest {
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  // HTTP/1.1 clients sign `host`; HTTP/2 clients sign `:authority` (or `host`, which is the same thing there).
  if (headers[":authority"] === undefined && headers.host !== undefined) headers[":authority"] = headers.host;
  if (headers.host === undefined && headers[":authority"] !== undefined) headers.host = headers[":authority"];
  // The canonical request uses the path exactly as sent; URL parsing could re-encode it.
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  return {
    method: req.method ?? "GET",
    path: q < 0 ? raw : raw.slice(0, q),
    query: q < 0 ? "" : raw.slice(q + 1),
    headers,
    bodySha256,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
