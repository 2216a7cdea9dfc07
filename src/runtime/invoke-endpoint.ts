// InvokeEndpoint (classic runtime, protocol.md §3.1): one request body to the instance's
// POST /invocations, its answer back, with SageMaker's headers and error names.
import * as http from "node:http";
import { isAwsError, type AwsError } from "../protocol/aws-error.js";
import type { SessionRouter } from "../routing/session-router.js";
import type { AnyRequest, AnyResponse } from "./http-types.js";
import { logStreamArn, modelError, toClassicError } from "./model-error.js";

export interface InvokeContext {
  requestId: string;
  endpointName: string;
  identity: { region: string };
}

export interface InvokeDeps {
  router: SessionRouter;
  accountId: string;
  /** SageMaker gives the model 60 s to answer. */
  modelTimeoutMs: number;
}

/** Request headers SageMaker passes to the container; everything else is stripped. */
const FORWARDED = ["content-type", "accept", "x-amzn-sagemaker-custom-attributes", "x-amzn-sagemaker-inference-id"];

export interface UpstreamTarget {
  variantName: string;
  ref: { endpointName: string; variantName: string; instanceId: string; logFile: string };
  arn: string;
  host: string;
  port: number;
  release(): void;
}

/** Picks the instance for a classic call; errors are already in the classic shapes. */
export function routeClassic(deps: InvokeDeps, req: AnyRequest, ctx: InvokeContext): UpstreamTarget {
  try {
    const target = req.headers["x-amzn-sagemaker-target-variant"];
    const { endpoint, variant } = deps.router.resolve(ctx.endpointName, typeof target === "string" ? target : undefined);
    const lease = deps.router.acquire(endpoint, variant);
    const ref = {
      endpointName: endpoint.endpointName,
      variantName: variant.variantName,
      instanceId: lease.instance.instanceId,
      logFile: lease.instance.logFile,
    };
    return {
      variantName: variant.variantName,
      ref,
      arn: logStreamArn(ctx.identity.region, deps.accountId, ref),
      host: lease.instance.host,
      port: lease.instance.port,
      release: lease.release,
    };
  } catch (err) {
    throw isAwsError(err) ? toClassicError(err) : err;
  }
}

/** Opens POST /invocations on the instance; resolves with the response as soon as headers arrive. */
export function callInstance(
  target: UpstreamTarget,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  timeoutMs: number,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      { host: target.host, port: target.port, method: "POST", path: "/invocations", headers: { ...headers, "content-length": body.length } },
      resolve,
    );
    upstream.setTimeout(timeoutMs, () => {
      upstream.destroy(modelError(`The model did not respond within ${timeoutMs / 1000} s.`, target.ref, target.arn));
    });
    upstream.on("error", (err) => {
      reject(isAwsError(err) ? err : modelError(`The model could not be reached: ${err.message}.`, target.ref, target.arn));
    });
    upstream.end(body);
  });
}

export function forwardedHeaders(req: AnyRequest, rename: Record<string, string> = {}): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const name of FORWARDED) {
    const v = req.headers[name];
    if (typeof v === "string") out[name] = v;
  }
  for (const [from, to] of Object.entries(rename)) {
    const v = req.headers[from];
    if (typeof v === "string") out[to] = v;
  }
  return out;
}

/** Collects a failed model response into the ModelError SageMaker would give. */
export async function failedModelResponse(upstream: http.IncomingMessage, target: UpstreamTarget): Promise<AwsError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of upstream as AsyncIterable<Buffer>) {
    if (size < 64 * 1024) chunks.push(chunk);
    size += chunk.length;
  }
  const text = Buffer.concat(chunks).toString("utf8").slice(0, 4096);
  const status = upstream.statusCode ?? 0;
  const kind = status >= 500 ? "server" : "client";
  return modelError(`Received ${kind} error (${status}) from primary with message "${text}".`, target.ref, target.arn, {
    status,
    message: text,
  });
}

export function createInvokeHandler(deps: InvokeDeps) {
  return async (req: AnyRequest, res: AnyResponse, ctx: InvokeContext, body: Buffer): Promise<void> => {
    const target = routeClassic(deps, req, ctx);
    try {
      const upstream = await callInstance(target, forwardedHeaders(req), body, deps.modelTimeoutMs);
      if ((upstream.statusCode ?? 500) >= 300) throw await failedModelResponse(upstream, target);
      const contentType = upstream.headers["content-type"];
      if (contentType) res.setHeader("content-type", contentType);
      res.setHeader("x-amzn-invoked-production-variant", target.variantName);
      const attrs = upstream.headers["x-amzn-sagemaker-custom-attributes"];
      if (typeof attrs === "string") res.setHeader("x-amzn-sagemaker-custom-attributes", attrs);
      res.writeHead(200);
      await new Promise<void>((resolve, reject) => {
        upstream.on("error", reject);
        upstream.on("end", resolve);
        upstream.pipe(res as NodeJS.WritableStream);
      }).catch((err: Error) => {
        // Headers are gone: all that is left is to cut the response so the client sees it fail.
        (res as { destroy?: (e?: Error) => void }).destroy?.(err);
      });
    } finally {
      target.release();
    }
  };
}

