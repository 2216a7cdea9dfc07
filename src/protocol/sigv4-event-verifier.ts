// Server side of the event signature chain: checks each envelope's `:chunk-signature` in order,
// the final empty envelope included, so no event can be dropped, reordered, replayed from
// another stream or altered. Synchronous (keys are cached per date), so the per-message path
// stays a few hashes long.

import { timingSafeEqual } from "node:crypto";
import { unwrapEnvelope } from "./envelope.js";
import { EventStreamFailure, malformedEvent } from "./event-stream-failure.js";
import { toLongDate } from "./sigv4-dates.js";
import { createScope, hmac, sha256Hex, type SigningKeySource } from "./sigv4-signing-key.js";
import type { VerifiedRequest } from "./sigv4-verify-request.js";

export const EVENT_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD";

export interface EventVerifierOptions {
  /** Refuse events whose `:date` is further than this from now (off when absent). */
  maxSkewMs?: number;
  now?: () => number;
}

export interface VerifiedEvent {
  date: Date;
  /** The encoded inner message; empty for the end of input. */
  payload: Uint8Array;
  /** True for the empty envelope that ends the client's input. */
  end: boolean;
}

export type EventChainSeed = Pick<VerifiedRequest, "seedSignature" | "region" | "service" | "signingKey">;

export class EventVerifier {
  readonly #region: string;
  readonly #service: string;
  readonly #signingKey: SigningKeySource;
  readonly #options: EventVerifierOptions;
  #prior: Buffer;
  #ended = false;
  #failure: EventStreamFailure | undefined;

  constructor(seed: EventChainSeed, options: EventVerifierOptions = {}) {
    this.#region = seed.region;
    this.#service = seed.service;
    this.#signingKey = seed.signingKey;
    this.#options = options;
    this.#prior = Buffer.from(seed.seedSignature, "hex");
  }

  /** True once the end-of-input envelope has verified. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Verifies and unwraps one envelope (whole message bytes, as the MessageReader emits them).
   * Throws `EventStreamFailure`: InvalidSignature, or MalformedEvent for a non-envelope or an
   * event after the end. After a failure every call throws it again: the chain is broken.
   */
  verify(bytes: Uint8Array): VerifiedEvent {
    if (this.#failure) throw this.#failure;
    try {
      if (this.#ended) throw malformedEvent("event after the end-of-input envelope");
      const envelope = unwrapEnvelope(bytes);
      const at = envelope.date.getTime();
      const skew = this.#options.maxSkewMs;
      if (skew !== undefined && Math.abs((this.#options.now?.() ?? Date.now()) - at) > skew) {
        throw new EventStreamFailure("InvalidSignature", `event :date ${envelope.date.toISOString()} is outside the allowed skew`);
      }
      const longDate = toLongDate(at);
      const shortDate = longDate.slice(0, 8);
      const stringToSign = [
        EVENT_ALGORITHM,
        longDate,
        createScope(shortDate, this.#region, this.#service),
        this.#prior.toString("hex"),
        sha256Hex(envelope.dateHeader),
        sha256Hex(envelope.payload),
      ].join("\n");
      const expected = hmac(this.#signingKey(shortDate, this.#region), stringToSign);
      if (!timingSafeEqual(expected, envelope.signature)) {
        throw new EventStreamFailure("InvalidSignature", "event signature does not match");
      }
      this.#prior = expected;
      this.#ended = envelope.payload.byteLength === 0;
      return { date: envelope.date, payload: envelope.payload, end: this.#ended };
    } catch (err) {
      this.#failure = err instanceof EventStreamFailure ? err : malformedEvent(String(err), err);
      throw this.#failure;
    }
  }
}
