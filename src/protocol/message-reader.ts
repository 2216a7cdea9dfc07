// The gate: turns a byte stream cut at arbitrary places (HTTP/2 DATA frames mean nothing) into
// whole event-stream messages. It is the only place that trusts no length: it reads the 12-byte
// prelude, checks its CRC and the declared total length against the limit, and only then holds
// on to the message's bytes. A message declared over the limit is refused from its prelude
// alone, so a peer cannot make us buffer it. The message CRC is checked when the message is
// decoded (event-stream-codec).

import { Crc32 } from "@smithy/core/checksum";
import { MIN_MESSAGE_BYTES, PRELUDE_BYTES } from "./event-stream-codec.js";
import { EventStreamFailure, malformedEvent } from "./event-stream-failure.js";

/** 16 MiB of payload per PayloadPart (DESIGN §2 limits). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Room for the envelope and inner headers around the largest payload. */
export const FRAMING_ALLOWANCE_BYTES = 64 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_MAX_PAYLOAD_BYTES + FRAMING_ALLOWANCE_BYTES;

export interface MessageReaderOptions {
  /** Largest total message length accepted, prelude and CRCs included. */
  maxMessageBytes?: number;
}

export class MessageReader {
  readonly maxMessageBytes: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Total length of the message being collected, once its prelude has passed the checks. */
  #expected = 0;
  #failure: EventStreamFailure | undefined;

  constructor(options: MessageReaderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(this.maxMessageBytes) || this.maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new RangeError(`maxMessageBytes must be an integer of at least ${MIN_MESSAGE_BYTES}`);
    }
  }

  /** Bytes held that do not yet form a whole message. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** True when input stopping now would cut a message short. */
  get midMessage(): boolean {
    return this.#buffered > 0;
  }

  /**
   * Feeds the next chunk and returns the messages it completed, in order. A returned message may
   * share memory with the chunks fed, so chunks must not be modified after feeding.
   * Throws `EventStreamFailure` (MalformedEvent, PayloadTooLarge); after that, every call throws
   * the same failure: the stream cannot be resynchronised.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    if (chunk.byteLength === 0) return [];
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const messages: Uint8Array[] = [];
    try {
      for (;;) {
        if (this.#expected === 0) {
          if (this.#buffered < PRELUDE_BYTES) break;
          this.#expected = this.#checkPrelude(this.#peekPrelude());
        }
        if (this.#buffered < this.#expected) break;
        messages.push(this.#take(this.#expected));
        this.#expected = 0;
      }
    } catch (err) {
      this.#fail(err as EventStreamFailure);
    }
    return messages;
  }

  /** Declares the end of input; throws MalformedEvent if it cut a message short. */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.#buffered > 0) {
      this.#fail(malformedEvent(`input ended ${this.#buffered} bytes into a message (truncated)`));
    }
  }

  #fail(failure: EventStreamFailure): never {
    this.#failure = failure;
    this.#chunks = [];
    this.#buffered = 0;
    throw failure;
  }

  #peekPrelude(): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.byteLength >= PRELUDE_BYTES) return first.subarray(0, PRELUDE_BYTES);
    const prelude = new Uint8Array(PRELUDE_BYTES);
    let filled = 0;
    for (const chunk of this.#chunks) {
      const n = Math.min(chunk.byteLength, PRELUDE_BYTES - filled);
      prelude.set(chunk.subarray(0, n), filled);
      filled += n;
      if (filled === PRELUDE_BYTES) break;
    }
    return prelude;
  }

  /** Returns the declared total length, or throws. The CRC comes first: without it the lengths mean nothing. */
  #checkPrelude(prelude: Uint8Array): number {
    const view = new DataView(prelude.buffer, prelude.byteOffset, PRELUDE_BYTES);
    const total = view.getUint32(0);
    const headersLength = view.getUint32(4);
    const crc = new Crc32();
    crc.update(prelude.subarray(0, 8));
    if (crc.digestSync() !== view.getUint32(8)) throw malformedEvent("prelude CRC mismatch");
    if (total < MIN_MESSAGE_BYTES) throw malformedEvent(`declared length ${total} is below ${MIN_MESSAGE_BYTES}`);
    if (total > this.maxMessageBytes) {
      throw new EventStreamFailure(
        "PayloadTooLarge",
        `declared message length ${total} exceeds the limit of ${this.maxMessageBytes} bytes`,
      );
    }
    if (headersLength > total - MIN_MESSAGE_BYTES) {
      throw malformedEvent(`headers length ${headersLength} does not fit in a message of ${total} bytes`);
    }
    return total;
  }

  /** Removes and returns the first `n` buffered bytes, without copying when one chunk holds them. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const need = n - filled;
      if (chunk.byteLength <= need) {
        out.set(chunk, filled);
        filled += chunk.byteLength;
        this.#chunks.shift();
      } else {
        out.set(chunk.subarray(0, need), filled);
        filled += need;
        this.#chunks[0] = chunk.subarray(need);
      }
    }
    return out;
  }
}
