// The two modeled mid-stream errors as exception messages (protocol.md §2.3): `:message-type`
// exception, `:exception-type` the shape name, a JSON body of the shape's members. AWS's client
// throws them from the response iterator. Header order reproduces the captured response.

import { fromUtf8, toUtf8 } from "@smithy/core/serde";
import { encodeMessage, readStringHeader, stringHeader, type Message } from "./event-stream-codec.js";
import { malformedEvent } from "./event-stream-failure.js";
import type { StreamError } from "./events.js";

export function encodeStreamError(error: StreamError): Uint8Array {
  return encodeMessage(streamErrorMessage(error));
}

export function streamErrorMessage(error: StreamError): Message {
  const body =
    error.kind === "ModelStreamError"
      ? { Message: error.Message, ErrorCode: error.ErrorCode }
      : { Message: error.Message };
  return {
    headers: {
      ":message-type": stringHeader("exception"),
      ":exception-type": stringHeader(error.kind),
      ":content-type": stringHeader("application/json"),
    },
    body: fromUtf8(JSON.stringify(body)),
  };
}

/** Reads a modeled exception message back; an unknown exception type or bad JSON is MalformedEvent. */
export function streamErrorFromMessage(message: Message): StreamError {
  const exceptionType = readStringHeader(message.headers, ":exception-type");
  let members: Record<string, unknown> = {};
  if (message.body.byteLength > 0) {
    try {
      const parsed: unknown = JSON.parse(toUtf8(message.body));
      if (typeof parsed === "object" && parsed !== null) members = parsed as Record<string, unknown>;
    } catch (err) {
      throw malformedEvent(`exception body is not JSON`, err);
    }
  }
  // SDKs accept either capitalisation of the message member.
  const text = String(members["Message"] ?? members["message"] ?? "");
  if (exceptionType === "ModelStreamError") {
    return { kind: "ModelStreamError", Message: text, ErrorCode: String(members["ErrorCode"] ?? "") };
  }
  if (exceptionType === "InternalStreamFailure") return { kind: "InternalStreamFailure", Message: text };
  throw malformedEvent(`unknown :exception-type ${JSON.stringify(exceptionType ?? null)}`);
}
