// The sidecar's public surface: one session's bridge between the runtime and a model
// container's WebSocket. It imports only ../protocol, so it can run alone beside a container.
export { openSession, SidecarSession } from "./session.js";
export type { SessionStats, SessionSummary, SidecarSessionEvents } from "./session.js";
export type { SessionOutput } from "./output-queue.js";
export { DialError } from "./dial.js";
export type { DialErrorKind } from "./dial.js";
export { DEFAULTS, containerUrl } from "./options.js";
export type { SidecarOptions } from "./options.js";
