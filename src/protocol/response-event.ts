// Response stream messages, as the router writes them and a client reads them (protocol.md
// §2.3): PayloadPart events, the two modeled exceptions, and what AWS's client does with the
// rest (unmodeled `error` messages become errors named by `:error-code`; unknown event types
// are skipped).

import { decodeMessage, readStringHeader } from "./event-stream-codec.js";
import { malformedEvent } from "./event-stream-failure.js";
import type { ResponseEvent, StreamError } from "./events.js";
import { encodePayloadPart, payloadPartFromMessage } from "./payload-part.js";
import { encodeStreamError, streamErrorFromMessage } from "./stream-error-message.js";

export type ResponseMessage =
  | { kind: "event"; event: ResponseEvent }
  | { kind: "stream-error"; error: StreamError }
  | { kind: "unmodeled-error"; code: string; message: string }
  | { kind: "unknown-event"; eventType: string };

export function encodeResponseEvent(event: ResponseEvent): Uint8Array {
  return encodePayloadPart(event.PayloadPart, "response");
}

export { encodeStreamError };

/** Throws `EventStreamFailure` MalformedEvent. */
export function decodeResponseMessage(bytes: Uint8Array): ResponseMessage {
  const message = decodeMessage(bytes);
  const messageType = readStringHeader(message.headers, ":message-type");
  switch (messageType) {
    case "event": {
      const eventType = readStringHeader(message.headers, ":event-type") ?? "";
      if (eventType !== "PayloadPart") return { kind: "unknown-event", eventType };
      return { kind: "event", event: { PayloadPart: payloadPartFromMessage(message) } };
    }
    case "exception":
      return { kind: "stream-error", error: streamErrorFromMessage(message) };
    case "error":
      return {
        kind: "unmodeled-error",
        code: readStringHeader(message.headers, ":error-code") ?? "UnknownError",
        message: readStringHeader(message.headers, ":error-message") ?? "",
      };
    default:
      throw malformedEvent(`unknown :message-type ${JSON.stringify(messageType ?? null)}`);
  }
}
