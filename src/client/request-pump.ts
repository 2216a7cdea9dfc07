// Sends the caller's events: each PayloadPart is encoded, wrapped in a signed envelope and
// written with backpressure (a full stream buffer stops the pulling of further events until it
// drains). The input ends with the signed empty envelope, then END_STREAM. The caller's event
// objects are read, never modified (AWS's client deletes their header members).

import type { ClientHttp2Stream } from "node:http2";
import type { CompletionState, DataType, PayloadPart } from "../protocol/events.js";
import { encodePayloadPart } from "../protocol/payload-part.js";
import type { EventSigner } from "../protocol/sigv4-event-signer.js";
import type { RequestStreamEvent } from "./types.js";

/** Resolves when the input has been sent in full, or the stream closed under it. Rejects with
 * the caller's iterator error or an unusable event. */
export async function pumpRequestEvents(
  stream: ClientHttp2Stream,
  body: AsyncIterable<RequestStreamEvent>,
  signer: EventSigner,
): Promise<void> {
  for await (const event of body) {
    if (stream.destroyed || stream.writableEnded) return;
    const envelope = await signer.sign(encodePayloadPart(toPayloadPart(event), "request"));
    if (!(await writeSliced(stream, envelope))) return;
  }
  if (stream.destroyed || stream.writableEnded) return;
  await write(stream, await signer.end());
  stream.end();
}

function toPayloadPart(event: RequestStreamEvent): PayloadPart {
  const member = event?.PayloadPart;
  if (member === undefined || member === null) {
    throw new TypeError("Each Body event must be { PayloadPart: { Bytes, DataType?, CompletionState?, P? } }");
  }
  const bytes = member.Bytes ?? new Uint8Array(0);
  if (!(bytes instanceof Uint8Array)) throw new TypeError("PayloadPart.Bytes must be a Uint8Array");
  const part: PayloadPart = { Bytes: bytes };
  if (member.DataType !== undefined) part.DataType = member.DataType as DataType;
  if (member.CompletionState !== undefined) part.CompletionState = member.CompletionState as CompletionState;
  if (member.P !== undefined) part.P = member.P;
  return part;
}

/**
 * Largest single write handed to the HTTP/2 stream. Node counts bytes a write has queued in the
 * session against `maxSessionMemory` (10 MB by default) until they are sent, and while over it
 * refuses every header block it receives: one 16 MiB envelope written before the server reads
 * (it reads nothing before its 200) reset that stream and every later one on the shared session
 * with ENHANCE_YOUR_CALM. Slices written with backpressure keep at most two slices queued.
 */
export const WRITE_SLICE_BYTES = 64 * 1024;

async function writeSliced(stream: ClientHttp2Stream, bytes: Uint8Array): Promise<boolean> {
  for (let at = 0; at < bytes.byteLength; at += WRITE_SLICE_BYTES) {
    if (!(await write(stream, bytes.subarray(at, at + WRITE_SLICE_BYTES)))) return false;
  }
  return true;
}

/** Writes and, when the stream's buffer is full, waits for it to drain. False if the stream closed. */
function write(stream: ClientHttp2Stream, bytes: Uint8Array): Promise<boolean> {
  if (stream.destroyed) return Promise.resolve(false);
  if (stream.write(bytes)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stream.on("drain", onDrain);
    stream.on("close", onClose);
  });
}
