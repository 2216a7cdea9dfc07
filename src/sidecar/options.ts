// Every limit, timeout and interval of one sidecar session, with the defaults DESIGN §2 names.
// All of them are options so tests can use short ones and operators can tune them.

export const MIB = 1024 * 1024;

export interface SidecarOptions {
  /**
   * Where the model container serves the session, e.g.
   * `ws://127.0.0.1:8080/invocations-bidirectional-stream?model=nova-3`. The caller builds it
   * from ModelInvocationPath and ModelQueryString (see `containerUrl`).
   */
  url: string;
  /** Largest PayloadPart, and largest PARTIAL run, the client may send (16 MiB). */
  maxPayloadBytes?: number;
  /**
   * Largest message the container may send. Defaults to `maxPayloadBytes`, so a bigger one
   * ends the session; set it higher and the sidecar splits such a message into
   * PARTIAL…COMPLETE parts of at most `maxPayloadBytes` each.
   */
  maxModelMessageBytes?: number;
  /** How long the whole opening handshake may take, connect and upgrade (5 s). */
  handshakeTimeoutMs?: number;
  /** Most bytes of a refused upgrade's response body kept for the error (4 KiB). */
  maxErrorBodyBytes?: number;
  /** How often the container is pinged (60 s, as SageMaker does). */
  pingIntervalMs?: number;
  /** Consecutive unanswered pings that end the session (5, as SageMaker does). */
  maxMissedPongs?: number;
  /** How long the container may keep sending after the client's input ended (10 s). */
  closeGraceMs?: number;
  /** How long a closing handshake the sidecar started may take before the socket is cut (5 s). */
  closeTimeoutMs?: number;
  /**
   * Bytes handed to the WebSocket but not yet to the kernel above which `write()` returns
   * false (1 MiB). A PARTIAL run held back until it completes is bounded by `maxPayloadBytes`
   * instead, because only more input can complete it.
   */
  highWaterMarkBytes?: number;
  /**
   * A session with no message either way for this long ends with InternalStreamFailure
   * IdleTimeout (0, the default: off). Pings do not count; a session held up by backpressure
   * is not idle.
   */
  idleTimeoutMs?: number;
  /** Aborts an opening handshake still in progress (the client went away while we dialled). */
  signal?: AbortSignal;
}

export type ResolvedSidecarOptions = Required<Omit<SidecarOptions, "signal">> & {
  signal: AbortSignal | undefined;
};

export const DEFAULTS = {
  maxPayloadBytes: 16 * MIB,
  handshakeTimeoutMs: 5_000,
  maxErrorBodyBytes: 4 * 1024,
  pingIntervalMs: 60_000,
  maxMissedPongs: 5,
  closeGraceMs: 10_000,
  closeTimeoutMs: 5_000,
  highWaterMarkBytes: 1 * MIB,
  idleTimeoutMs: 0,
} as const;

/** Fills in defaults and rejects values that would make a session misbehave. */
export function resolveOptions(options: SidecarOptions): ResolvedSidecarOptions {
  const url = new URL(options.url);
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`sidecar url must be ws: or wss:, got ${url.protocol}`);
  }
  const maxPayloadBytes = positive("maxPayloadBytes", options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes);
  const resolved: ResolvedSidecarOptions = {
    url: options.url,
    maxPayloadBytes,
    maxModelMessageBytes: positive("maxModelMessageBytes", options.maxModelMessageBytes ?? maxPayloadBytes),
    handshakeTimeoutMs: positive("handshakeTimeoutMs", options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs),
    maxErrorBodyBytes: nonNegative("maxErrorBodyBytes", options.maxErrorBodyBytes ?? DEFAULTS.maxErrorBodyBytes),
    pingIntervalMs: positive("pingIntervalMs", options.pingIntervalMs ?? DEFAULTS.pingIntervalMs),
    maxMissedPongs: positive("maxMissedPongs", options.maxMissedPongs ?? DEFAULTS.maxMissedPongs),
    closeGraceMs: nonNegative("closeGraceMs", options.closeGraceMs ?? DEFAULTS.closeGraceMs),
    closeTimeoutMs: positive("closeTimeoutMs", options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs),
    highWaterMarkBytes: positive("highWaterMarkBytes", options.highWaterMarkBytes ?? DEFAULTS.highWaterMarkBytes),
    idleTimeoutMs: nonNegative("idleTimeoutMs", options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs),
    signal: options.signal,
  };
  return resolved;
}

/**
 * The container URL SageMaker's sidecar dials (protocol.md §4): the invocation path (no leading
 * slash, already validated by the runtime) or the default, and the query string verbatim.
 */
export function containerUrl(base: string, invocationPath?: string, queryString?: string): string {
  const url = new URL(base);
  url.pathname = "/" + (invocationPath || "invocations-bidirectional-stream");
  // Verbatim: URLSearchParams would re-encode what the client escaped.
  url.search = queryString ? "?" + queryString : "";
  return url.toString();
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
