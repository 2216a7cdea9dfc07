// The whole request-side pipeline for one session, for whoever reads a client's body: bytes →
// MessageReader → envelope (verified when a verifier is given, only unwrapped under
// `--auth none`) → PayloadPart. Pure and synchronous: the caller owns the I/O and backpressure.

import { unwrapEnvelope } from "./envelope.js";
import { malformedEvent } from "./event-stream-failure.js";
import type { PayloadPart } from "./events.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, MessageReader } from "./message-reader.js";
import { decodePayloadPart } from "./payload-part.js";
import type { EventVerifier } from "./sigv4-event-verifier.js";

export interface RequestEventReaderOptions {
  /** Verifies the signature chain; without it envelopes are unwrapped unchecked. */
  verifier?: EventVerifier;
  /** Largest envelope accepted (see MessageReader). */
  maxMessageBytes?: number;
  /** Largest PayloadPart payload accepted; defaults to 16 MiB. */
  maxPayloadBytes?: number;
}

export type RequestStreamItem = { kind: "part"; part: PayloadPart } | { kind: "end" };

export class RequestEventReader {
  readonly #reader: MessageReader;
  readonly #verifier: EventVerifier | undefined;
  readonly #maxPayloadBytes: number;
  #ended = false;

  constructor(options: RequestEventReaderOptions = {}) {
    this.#reader = new MessageReader(
      options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes },
    );
    this.#verifier = options.verifier;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /** True once the empty end-of-input envelope has arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Throws `EventStreamFailure` (MalformedEvent, PayloadTooLarge, InvalidSignature). */
  push(chunk: Uint8Array): RequestStreamItem[] {
    const items: RequestStreamItem[] = [];
    for (const message of this.#reader.push(chunk)) {
      if (this.#ended) throw malformedEvent("event after the end-of-input envelope");
      const payload = this.#verifier ? this.#verifier.verify(message).payload : unwrapEnvelope(message).payload;
      if (payload.byteLength === 0) {
        this.#ended = true;
        items.push({ kind: "end" });
      } else {
        items.push({ kind: "part", part: decodePayloadPart(payload, { maxPayloadBytes: this.#maxPayloadBytes }) });
      }
    }
    return items;
  }

  /** The body ended (END_STREAM); throws MalformedEvent if it stopped inside a message. */
  end(): void {
    this.#reader.end();
  }
}
