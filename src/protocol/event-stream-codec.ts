// Event-stream message encoding and decoding (protocol.md §2.1), through smithy's codec so the
// bytes are the ones AWS's SDKs produce and expect. The codec's header parser trusts the lengths
// inside the header block, so a header whose value claims more bytes than the block holds would
// be read out of the payload; `decodeMessage` walks the block first and refuses that.

import { EventStreamCodec } from "@smithy/core/event-streams";
import { fromUtf8, toUtf8 } from "@smithy/core/serde";
import type { Message, MessageHeaders, MessageHeaderValue } from "@smithy/types";
import { malformedEvent } from "./event-stream-failure.js";

export type { Message, MessageHeaders, MessageHeaderValue };

/** 4-byte total length, 4-byte headers length, 4-byte prelude CRC. */
export const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC: an empty message. */
export const MIN_MESSAGE_BYTES = 16;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Fixed value sizes by header type byte; -1 marks the two length-prefixed types. */
const VALUE_SIZE = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];

export function encodeMessage(message: Message): Uint8Array {
  return codec.encode(message);
}

/** Encodes a header block alone, e.g. the `:date` header whose bytes an event signature covers. */
export function encodeHeaders(headers: MessageHeaders): Uint8Array {
  return codec.formatHeaders(headers);
}

/**
 * Decodes one whole message (CRCs checked). The body is a view into `bytes`, not a copy.
 * Throws `EventStreamFailure` MalformedEvent.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.byteLength < MIN_MESSAGE_BYTES) {
    throw malformedEvent(`message of ${bytes.byteLength} bytes is shorter than ${MIN_MESSAGE_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headersLength = view.getUint32(4);
  if (headersLength > bytes.byteLength - MIN_MESSAGE_BYTES) {
    throw malformedEvent(`headers length ${headersLength} exceeds the message`);
  }
  checkHeaderBlock(bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headersLength));
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw malformedEvent(err instanceof Error ? err.message : String(err), err);
  }
}

function checkHeaderBlock(block: Uint8Array): void {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let at = 0;
  while (at < block.byteLength) {
    const nameLength = block[at]!;
    if (nameLength === 0) throw malformedEvent(`empty header name at offset ${at}`);
    at += 1 + nameLength;
    if (at >= block.byteLength) throw malformedEvent("header runs past the header block");
    const type = block[at++]!;
    let size = VALUE_SIZE[type];
    if (size === undefined) throw malformedEvent(`unknown header value type ${type}`);
    if (size < 0) {
      if (at + 2 > block.byteLength) throw malformedEvent("header runs past the header block");
      size = 2 + view.getUint16(at);
    }
    at += size;
    if (at > block.byteLength) throw malformedEvent("header value runs past the header block");
  }
}

export function stringHeader(value: string): MessageHeaderValue {
  return { type: "string", value };
}

/** The value of a string header; a header of another type counts as malformed, absence as undefined. */
export function readStringHeader(headers: MessageHeaders, name: string): string | undefined {
  // Own properties only: a header named like an Object.prototype member must not be "found".
  const header = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (header === undefined) return undefined;
  if (header.type !== "string") throw malformedEvent(`header ${name} has type ${header.type}, expected string`);
  return header.value;
}
