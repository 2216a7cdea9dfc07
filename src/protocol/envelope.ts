// The signed envelope every request event travels in (protocol.md §2.4): an outer message with
// exactly `:date` (timestamp) then `:chunk-signature` (32 raw bytes), whose payload is one whole
// encoded inner message; an empty payload marks the end of the client's input. Unwrapping is
// strict about the layout because the signature covers the `:date` header's exact bytes.

import { decodeMessage, encodeHeaders, encodeMessage, PRELUDE_BYTES } from "./event-stream-codec.js";
import { malformedEvent } from "./event-stream-failure.js";
import type { MessageHeaders } from "./event-stream-codec.js";

export const SIGNATURE_BYTES = 32;
/** Encoded `:date` header: name length, ":date", type 8, int64 milliseconds. */
export const DATE_HEADER_BYTES = 1 + 5 + 1 + 8;
/** Encoded `:chunk-signature` header: name length, name, type 6, u16 length, 32 bytes. */
const SIGNATURE_HEADER_BYTES = 1 + 16 + 1 + 2 + SIGNATURE_BYTES;
const ENVELOPE_HEADERS_BYTES = DATE_HEADER_BYTES + SIGNATURE_HEADER_BYTES;

export interface Envelope {
  /** The signing time, to the millisecond. */
  date: Date;
  /** The wire bytes of the `:date` header, which the chunk signature covers. */
  dateHeader: Uint8Array;
  signature: Uint8Array;
  /** The encoded inner message; empty for the end-of-input envelope. */
  payload: Uint8Array;
}

/** The `:date` header exactly as it is encoded in an envelope. */
export function encodeDateHeader(date: Date): Uint8Array {
  return encodeHeaders(dateHeaders(date));
}

export function wrapEnvelope(payload: Uint8Array, date: Date, signature: Uint8Array): Uint8Array {
  if (signature.byteLength !== SIGNATURE_BYTES) {
    throw new RangeError(`a chunk signature is ${SIGNATURE_BYTES} bytes, got ${signature.byteLength}`);
  }
  return encodeMessage({
    headers: { ...dateHeaders(date), ":chunk-signature": { type: "binary", value: signature } },
    body: payload,
  });
}

/** Throws `EventStreamFailure` MalformedEvent for anything but a well-formed envelope. */
export function unwrapEnvelope(bytes: Uint8Array): Envelope {
  const { headers, body } = decodeMessage(bytes);
  const headersLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  const names = Object.keys(headers);
  const date = headers[":date"];
  const signature = headers[":chunk-signature"];
  if (
    headersLength !== ENVELOPE_HEADERS_BYTES ||
    names.length !== 2 ||
    names[0] !== ":date" ||
    names[1] !== ":chunk-signature" ||
    date?.type !== "timestamp" ||
    signature?.type !== "binary" ||
    signature.value.byteLength !== SIGNATURE_BYTES
  ) {
    throw malformedEvent("not a signed envelope: expected exactly :date (timestamp) then :chunk-signature (32 bytes)");
  }
  if (Number.isNaN(date.value.getTime())) throw malformedEvent("envelope :date is out of range");
  return {
    date: date.value,
    dateHeader: bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + DATE_HEADER_BYTES),
    signature: signature.value,
    payload: body,
  };
}

function dateHeaders(date: Date): MessageHeaders {
  return { ":date": { type: "timestamp", value: date } };
}
