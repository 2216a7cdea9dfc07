// PayloadPart events ⇄ event-stream messages (protocol.md §2.2–2.3). Header order matters for
// byte-exact output: AWS's client writes `:event-type` first on requests, and responses put
// `:message-type` first (the captured fixtures show both). All headers are strings; the
// optional ones are written only when set.

import {
  decodeMessage,
  encodeMessage,
  readStringHeader,
  stringHeader,
  type Message,
  type MessageHeaders,
} from "./event-stream-codec.js";
import { EventStreamFailure, malformedEvent } from "./event-stream-failure.js";
import type { CompletionState, DataType, PayloadPart } from "./events.js";

export const PAYLOAD_PART = "PayloadPart";
export const OCTET_STREAM = "application/octet-stream";

const DATA_TYPES: ReadonlySet<string> = new Set<DataType>(["UTF8", "BINARY"]);
const COMPLETION_STATES: ReadonlySet<string> = new Set<CompletionState>(["PARTIAL", "COMPLETE"]);

export type Direction = "request" | "response";

export function encodePayloadPart(part: PayloadPart, direction: Direction): Uint8Array {
  return encodeMessage(payloadPartMessage(part, direction));
}

export function payloadPartMessage(part: PayloadPart, direction: Direction): Message {
  const headers: MessageHeaders =
    direction === "request"
      ? { ":event-type": stringHeader(PAYLOAD_PART), ":message-type": stringHeader("event") }
      : { ":message-type": stringHeader("event"), ":event-type": stringHeader(PAYLOAD_PART) };
  headers[":content-type"] = stringHeader(OCTET_STREAM);
  // AWS's client always writes DataType; absence would mean BINARY anyway.
  headers["DataType"] = stringHeader(part.DataType ?? "BINARY");
  if (part.CompletionState !== undefined) headers["CompletionState"] = stringHeader(part.CompletionState);
  if (part.P !== undefined) headers["P"] = stringHeader(part.P);
  return { headers, body: part.Bytes };
}

export interface DecodePayloadPartOptions {
  /** Refuse a payload over this many bytes with PayloadTooLarge. */
  maxPayloadBytes?: number;
}

/**
 * Decodes an inner request message (or a response PayloadPart) into a PayloadPart. `Bytes` is a
 * view into `bytes`. Absent DataType stays absent (it means BINARY); the caller decides.
 * Throws `EventStreamFailure` MalformedEvent / PayloadTooLarge.
 */
export function decodePayloadPart(bytes: Uint8Array, options: DecodePayloadPartOptions = {}): PayloadPart {
  return payloadPartFromMessage(decodeMessage(bytes), options);
}

export function payloadPartFromMessage(message: Message, options: DecodePayloadPartOptions = {}): PayloadPart {
  const { headers, body } = message;
  const messageType = readStringHeader(headers, ":message-type");
  if (messageType !== "event") throw malformedEvent(`:message-type is ${describe(messageType)}, expected event`);
  const eventType = readStringHeader(headers, ":event-type");
  if (eventType !== PAYLOAD_PART) throw malformedEvent(`:event-type is ${describe(eventType)}, expected PayloadPart`);
  const part: PayloadPart = { Bytes: body };
  const dataType = readStringHeader(headers, "DataType");
  if (dataType !== undefined) {
    if (!DATA_TYPES.has(dataType)) throw malformedEvent(`DataType ${describe(dataType)} is not UTF8 or BINARY`);
    part.DataType = dataType as DataType;
  }
  const completion = readStringHeader(headers, "CompletionState");
  if (completion !== undefined) {
    if (!COMPLETION_STATES.has(completion)) {
      throw malformedEvent(`CompletionState ${describe(completion)} is not PARTIAL or COMPLETE`);
    }
    part.CompletionState = completion as CompletionState;
  }
  const padding = readStringHeader(headers, "P");
  if (padding !== undefined) part.P = padding;
  if (options.maxPayloadBytes !== undefined && body.byteLength > options.maxPayloadBytes) {
    throw new EventStreamFailure(
      "PayloadTooLarge",
      `payload of ${body.byteLength} bytes exceeds the limit of ${options.maxPayloadBytes}`,
    );
  }
  return part;
}

function describe(value: string | undefined): string {
  return value === undefined ? "absent" : JSON.stringify(value.slice(0, 64));
}
