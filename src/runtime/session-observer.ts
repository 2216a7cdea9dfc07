// What the runtime reports about sessions; `server` wires it to the metrics registry.
import type { StreamError } from "../protocol/events.js";
import type { Route } from "../routing/session-router.js";
import type { SessionSummary } from "../sidecar/index.js";

/** Where a session's setup time went, from the request's arrival to its 200. */
export interface SetupTiming {
  /** The WebSocket upgrade: TCP connect plus the container's accept. */
  modelMs: number;
  /** Everything else: authentication, validation, routing, writing the 200. */
  overheadMs: number;
}

export interface SessionObserver {
  started(route: Route): void;
  setup(route: Route, timing: SetupTiming): void;
  input(route: Route, bytes: number): void;
  output(route: Route, bytes: number): void;
  /** Once per session that got a 200, however it ended (a client cancel is `error` undefined). */
  ended(route: Route, error: StreamError | undefined, durationMs: number): void;
  /** The sidecar's account once its WebSocket is closed (pings, missed pongs). */
  summary(route: Route, summary: SessionSummary): void;
  /** A session refused before its 200, by AWS error type. */
  refused(endpointName: string, errorType: string): void;
}

export const NO_OBSERVER: SessionObserver = {
  started: () => {},
  setup: () => {},
  input: () => {},
  output: () => {},
  ended: () => {},
  summary: () => {},
  refused: () => {},
};
