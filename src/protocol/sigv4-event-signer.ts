// Client side of the event signature chain (protocol.md §2.4): each encoded inner message goes
// out in an envelope signed over the previous signature (the request's signature first), the
// envelope's own `:date` header and the inner message, with a key derived from that `:date`.
// SignatureV4's message-signing API computes exactly that string to sign.

import { fromHex } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import { wrapEnvelope } from "./envelope.js";
import { Sha256 } from "./sigv4-canonical-request.js";
import type { SigningCredentials } from "./sigv4-sign-request.js";
import { SIGNING_SERVICE } from "./sigv4-verify-request.js";

export interface EventSignerOptions {
  /** Hex signature of the initial request. */
  seedSignature: string;
  region: string;
  service?: string;
  credentials: SigningCredentials;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export class EventSigner {
  readonly #signer: SignatureV4;
  readonly #region: string;
  readonly #now: () => number;
  #prior: string;
  /** Signing is async and each signature feeds the next, so calls are chained in call order. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: EventSignerOptions) {
    this.#signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region,
      service: options.service ?? SIGNING_SERVICE,
      sha256: Sha256,
    });
    this.#region = options.region;
    this.#now = options.now ?? Date.now;
    this.#prior = options.seedSignature;
  }

  /** The envelope carrying `inner` (an encoded event message). */
  sign(inner: Uint8Array): Promise<Uint8Array> {
    const next = this.#tail.then(() => this.#signOne(inner));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** The empty envelope that ends the input. */
  end(): Promise<Uint8Array> {
    return this.sign(new Uint8Array(0));
  }

  async #signOne(inner: Uint8Array): Promise<Uint8Array> {
    const date = new Date(this.#now());
    const { signature } = await this.#signer.sign(
      { message: { headers: { ":date": { type: "timestamp", value: date } }, body: inner }, priorSignature: this.#prior },
      { signingDate: date, signingRegion: this.#region },
    );
    this.#prior = signature;
    return wrapEnvelope(inner, date, fromHex(signature));
  }
}
