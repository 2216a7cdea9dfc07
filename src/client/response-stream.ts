// Reads the response body as AWS's client does: PayloadPart events are yielded; the modeled
// ModelStreamError / InternalStreamFailure are thrown from the iterator (without cancelling the
// request side: the caller may still be sending, as with AWS's client); unknown event types are
// skipped. Breaking out of the loop early cancels the HTTP/2 stream (RST_STREAM CANCEL).

import { constants, type ClientHttp2Stream } from "node:http2";
import type { PayloadPart, StreamError } from "../protocol/events.js";
import { isEventStreamFailure } from "../protocol/event-stream-failure.js";
import { MessageReader } from "../protocol/message-reader.js";
import { decodeResponseMessage } from "../protocol/response-event.js";
import {
  InternalStreamFailure,
  ModelStreamError,
  SageMakerRuntimeHTTP2ServiceException,
  type ResponseMetadata,
} from "./errors.js";
import type { ResponseStreamEvent } from "./types.js";

export interface StreamState {
  /** Why the stream was torn down on our side (the caller's input failed, or an abort). */
  failure?: Error;
}

export async function* readResponseEvents(
  stream: ClientHttp2Stream,
  metadata: ResponseMetadata,
  state: StreamState,
): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  const reader = new MessageReader();
  let settled = false;
  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
      for (const bytes of reader.push(chunk)) {
        const message = decodeResponseMessage(bytes);
        switch (message.kind) {
          case "event":
            yield { PayloadPart: toResponsePart(message.event.PayloadPart) };
            break;
          case "stream-error":
            settled = true;
            throw toStreamException(message.error, metadata);
          case "unmodeled-error":
            settled = true;
            throw new SageMakerRuntimeHTTP2ServiceException({
              name: message.code,
              $fault: "client",
              message: message.message,
              $metadata: metadata,
            });
          case "unknown-event":
            break;
        }
      }
    }
    // A stream we cancelled, or one reset under us, ends the loop without END_STREAM.
    if (state.failure) throw state.failure;
    if (!stream.readableEnded) {
      throw new Error(`The HTTP/2 stream was reset before the response ended (code ${stream.rstCode ?? "unknown"})`);
    }
    try {
      reader.end();
    } catch {
      throw new Error("Truncated event message received.");
    }
    settled = true;
  } catch (err) {
    if (state.failure) throw state.failure;
    if (isEventStreamFailure(err)) throw new Error(`Malformed response event: ${err.detail}`, { cause: err });
    throw err;
  } finally {
    if (!settled && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }
}

function toResponsePart(part: PayloadPart): PayloadPart {
  // A plain Uint8Array over the received bytes, as AWS's client yields (not a Buffer).
  const out: PayloadPart = { Bytes: new Uint8Array(part.Bytes.buffer, part.Bytes.byteOffset, part.Bytes.byteLength) };
  if (part.DataType !== undefined) out.DataType = part.DataType;
  if (part.CompletionState !== undefined) out.CompletionState = part.CompletionState;
  if (part.P !== undefined) out.P = part.P;
  return out;
}

function toStreamException(error: StreamError, $metadata: ResponseMetadata): Error {
  return error.kind === "ModelStreamError"
    ? new ModelStreamError({ Message: error.Message, ErrorCode: error.ErrorCode, $metadata })
    : new InternalStreamFailure({ Message: error.Message, $metadata });
}
