// One HTTP/2 session per client, shared by all its concurrent streams. (AWS's client opens an
// isolated session per event-stream request and closes it once the response headers arrive;
// sharing saves a handshake per stream and is what the Deepgram transport does.) The session
// holds the process open only while streams are active, and is replaced when it closes, errors
// or receives GOAWAY; streams already open on an old session carry on.

import * as http2 from "node:http2";
import type { SecureClientSessionOptions } from "node:http2";

export type TlsOptions = Pick<
  SecureClientSessionOptions,
  "ca" | "cert" | "key" | "passphrase" | "pfx" | "rejectUnauthorized" | "servername" | "checkServerIdentity" | "minVersion"
>;

export class Http2SessionPool {
  readonly #origin: string;
  readonly #tls: TlsOptions;
  #session: http2.ClientHttp2Session | undefined;
  #active = new Map<http2.ClientHttp2Session, number>();
  #destroyed = false;

  constructor(origin: URL, tls: TlsOptions = {}) {
    this.#origin = origin.origin;
    this.#tls = tls;
  }

  /** Opens a stream on the shared session, connecting first if needed. */
  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream {
    if (this.#destroyed) throw new Error("The client has been destroyed");
    const session = this.#usableSession();
    const stream = session.request(headers, { endStream: false });
    this.#track(session, +1);
    stream.once("close", () => this.#track(session, -1));
    return stream;
  }

  /** Closes the session at once; open streams are cancelled. */
  destroy(): void {
    this.#destroyed = true;
    for (const session of this.#active.keys()) session.destroy();
    this.#session?.destroy();
    this.#session = undefined;
  }

  #usableSession(): http2.ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.#origin, { ...this.#tls });
    // Errors reach the streams that were open; without a listener a session error would crash.
    session.on("error", () => this.#forget(session));
    session.on("goaway", () => this.#forget(session));
    session.on("close", () => this.#forget(session));
    session.unref();
    this.#session = session;
    return session;
  }

  #forget(session: http2.ClientHttp2Session): void {
    if (this.#session === session) this.#session = undefined;
  }

  #track(session: http2.ClientHttp2Session, delta: number): void {
    const count = (this.#active.get(session) ?? 0) + delta;
    if (count <= 0) {
      this.#active.delete(session);
      if (!session.destroyed) session.unref();
      // A replaced session with nothing left on it has no further use.
      if (session !== this.#session && !session.closed) session.close();
    } else {
      if (count === 1 && delta > 0 && !session.destroyed) session.ref();
      this.#active.set(session, count);
    }
  }
}
