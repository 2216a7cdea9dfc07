// Opening the container's WebSocket (DESIGN §2 step 4). A session exists only once the upgrade
// succeeded; every way it can fail before that becomes a DialError the runtime turns into a
// 424 ModelError (refused, unreachable) with the container's own status and words.
import WebSocket, { type ClientOptions } from "ws";
import type { IncomingMessage, ClientRequest } from "node:http";
import type { ResolvedSidecarOptions } from "./options.js";

export type DialErrorKind = "refused" | "timeout" | "unreachable" | "aborted";

export class DialError extends Error {
  override readonly name = "DialError";
  readonly kind: DialErrorKind;
  /** The HTTP status the container answered the upgrade with, when it answered one. */
  readonly status: number | undefined;
  /** The start of the container's response body (at most `maxErrorBodyBytes`), when it sent one. */
  readonly body: string | undefined;

  constructor(kind: DialErrorKind, message: string, details: { status?: number; body?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.body = details.body;
  }
}

/** Node's codes for "nothing answered at that address". */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EADDRNOTAVAIL",
]);

/** A client socket configured as DESIGN §2 asks; it starts connecting at once. */
export function connect(options: ResolvedSidecarOptions): WebSocket {
  const wsOptions: ClientOptions & { closeTimeout: number } = {
    perMessageDeflate: false,
    maxPayload: options.maxModelMessageBytes,
    followRedirects: false,
    // Pings from the container are answered by ws itself; ours are counted by the heartbeat.
    autoPong: true,
    // ws 8.23 option (not yet in @types/ws): how long a closing handshake we start may take
    // before ws cuts the socket, so a container that never answers our Close cannot hold it.
    closeTimeout: options.closeTimeoutMs,
  };
  return new WebSocket(options.url, wsOptions);
}

/**
 * Settles when the upgrade succeeded, or rejects with a DialError (terminating the socket).
 * The whole handshake, connect included, and reading a refusal's body share one deadline.
 */
export function whenOpen(ws: WebSocket, options: ResolvedSidecarOptions): Promise<void> {
  const target = redact(options.url);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let refusal: { status: number; statusText: string; chunks: Buffer[]; bytes: number; res: IncomingMessage } | undefined;

    const settle = (error?: DialError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      ws.off("open", onOpen);
      ws.off("error", onError);
      ws.off("unexpected-response", onUnexpectedResponse);
      if (refusal) refusal.res.destroy();
      if (error) {
        // In CONNECTING this aborts the request; ws then emits 'error' and 'close', which the
        // session's listeners absorb.
        ws.terminate();
        reject(error);
      } else {
        resolve();
      }
    };

    const finishRefusal = (): void => {
      if (!refusal) return;
      const { status, statusText, chunks } = refusal;
      const body = Buffer.concat(chunks).toString("utf8");
      const text = body.trim() ? `: ${body.trim().slice(0, 200)}` : "";
      settle(
        new DialError("refused", `the model answered the WebSocket upgrade at ${target} with HTTP ${status} ${statusText}${text}`, {
          status,
          body,
        }),
      );
    };

    const onOpen = (): void => settle();
    const onError = (err: Error & { code?: string }): void => {
      if (err.code === "ETIMEDOUT") {
        settle(new DialError("timeout", `connecting to the model at ${target} timed out`, { cause: err }));
      } else if (err.code && UNREACHABLE.has(err.code)) {
        settle(new DialError("unreachable", `the model is unreachable at ${target} (${err.code})`, { cause: err }));
      } else {
        // The container answered 101 but not as RFC 6455 requires (bad accept key, an
        // extension or subprotocol we did not ask for).
        settle(new DialError("refused", `the model's WebSocket upgrade at ${target} is invalid: ${err.message}`, { cause: err }));
      }
    };
    const onUnexpectedResponse = (_req: ClientRequest, res: IncomingMessage): void => {
      refusal = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", chunks: [], bytes: 0, res };
      const state = refusal;
      res.on("data", (chunk: Buffer) => {
        const room = options.maxErrorBodyBytes - state.bytes;
        if (room > 0) {
          const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
          state.chunks.push(kept);
          state.bytes += kept.length;
        }
        if (state.bytes >= options.maxErrorBodyBytes) finishRefusal();
      });
      res.on("end", finishRefusal);
      res.on("error", finishRefusal);
      res.on("close", finishRefusal);
    };
    const onAbort = (): void => {
      settle(new DialError("aborted", `dialling the model at ${target} was aborted`, { cause: options.signal?.reason }));
    };
    const timer = setTimeout(() => {
      // A refusal whose body is still trickling in is still a refusal.
      if (refusal) finishRefusal();
      else settle(new DialError("timeout", `the model did not accept the WebSocket at ${target} within ${options.handshakeTimeoutMs} ms`));
    }, options.handshakeTimeoutMs);

    ws.on("open", onOpen);
    ws.on("error", onError);
    ws.on("unexpected-response", onUnexpectedResponse);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The URL for messages: the query string may carry a client's parameters, so it stays out. */
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
