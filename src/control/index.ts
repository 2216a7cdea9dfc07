// The control plane's public surface, for the server (composition root), the CLI and tests.

export { ControlPlane, DEFAULT_ACCOUNT_ID, DEFAULT_MAX_INSTANCES, DEFAULT_REGION, SUPPORTED_TARGETS } from "./control-plane.js";
export type { ControlPlaneOptions, ControlRequest, ControlResponse } from "./control-plane.js";
export { BUILTIN_IMAGES, classifyImage, hostResolver } from "./image.js";
export type { HostResolver, ImageKind } from "./image.js";
export type { LiveEndpoint, LiveInstance, LiveInstanceState, LiveStateReader, LiveVariant } from "./live-state.js";
export type { ControlLogger } from "./logger.js";
export type { EndpointStatus } from "./records.js";
export { noSessionDrainer } from "./session-drainer.js";
export type { SessionDrainer } from "./session-drainer.js";
export { FIELD_POLICIES } from "./unsupported-fields.js";
export type { FieldDisposition, FieldPolicy } from "./unsupported-fields.js";
