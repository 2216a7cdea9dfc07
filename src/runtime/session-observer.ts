// What the runtime reports about sessions; `server` wires it to the metrics registry.
import type { StreamError } from "../protocol/events.js";
import type { Route } from "../routing/session-router.js";

export interface SessionObserver {
  started(route: Route): void;
  input(route: Route, bytes: number): void;
  output(route: Route, bytes: number): void;
  ended(route: Route, error: StreamError | undefined, durationMs: number): void;
}

export const NO_OBSERVER: SessionObserver = {
  started: () => {},
  input: () => {},
  output: () => {},
  ended: () => {},
};
