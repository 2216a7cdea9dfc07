// InvokeEndpointWithResponseStream (protocol.md §3.1): the instance's streamed HTTP answer
// becomes PayloadPart events as it arrives. The classic ResponseStream's PayloadPart has only
// Bytes, so no DataType header is written.
import { encodeMessage, stringHeader } from "../protocol/event-stream-codec.js";
import { encodeStreamError } from "../protocol/stream-error-message.js";
import type { AnyRequest, AnyResponse } from "./http-types.js";
import { callInstance, failedModelResponse, forwardedHeaders, routeClassic, type InvokeContext, type InvokeDeps } from "./invoke-endpoint.js";

function payloadPart(bytes: Uint8Array): Uint8Array {
  return encodeMessage({
    headers: {
      ":event-type": stringHeader("PayloadPart"),
      ":content-type": stringHeader("application/octet-stream"),
      ":message-type": stringHeader("event"),
    },
    body: bytes,
  });
}

export function createInvokeStreamHandler(deps: InvokeDeps) {
  return async (req: AnyRequest, res: AnyResponse, ctx: InvokeContext, body: Buffer): Promise<void> => {
    const target = routeClassic(deps, req, ctx);
    try {
      // This operation names the accept header X-Amzn-SageMaker-Accept; the model sees Accept.
      const upstream = await callInstance(target, forwardedHeaders(req, { "x-amzn-sagemaker-accept": "accept" }), body, deps.modelTimeoutMs);
      if ((upstream.statusCode ?? 500) >= 300) throw await failedModelResponse(upstream, target);
      res.setHeader("content-type", "application/vnd.amazon.eventstream");
      res.setHeader("x-amzn-sagemaker-content-type", String(upstream.headers["content-type"] ?? "application/octet-stream"));
      res.setHeader("x-amzn-invoked-production-variant", target.variantName);
      const attrs = upstream.headers["x-amzn-sagemaker-custom-attributes"];
      if (typeof attrs === "string") res.setHeader("x-amzn-sagemaker-custom-attributes", attrs);
      res.writeHead(200);
      const out = res as NodeJS.WritableStream;
      try {
        for await (const chunk of upstream as AsyncIterable<Buffer>) {
          if (!out.write(payloadPart(chunk))) await new Promise((r) => res.once("drain", r));
        }
      } catch (err) {
        out.write(encodeStreamError({ kind: "ModelStreamError", ErrorCode: "StreamBroken", Message: `the model's response broke off: ${(err as Error).message}` }));
      }
      res.end();
    } finally {
      target.release();
    }
  };
}
