// The wire formats Sluice speaks, in one import. Each module also stands alone.

export * from "./aws-error.js";
export * from "./aws-error-response.js";
export * from "./events.js";
export * from "./event-stream-failure.js";
export * from "./event-stream-codec.js";
export * from "./message-reader.js";
export * from "./envelope.js";
export * from "./payload-part.js";
export * from "./stream-error-message.js";
export * from "./response-event.js";
export * from "./request-event-reader.js";
export * from "./sigv4-authorization.js";
export * from "./sigv4-dates.js";
export * from "./sigv4-errors.js";
export * from "./sigv4-signing-key.js";
export * from "./sigv4-canonical-request.js";
export * from "./sigv4-sign-request.js";
export * from "./sigv4-verify-request.js";
export * from "./sigv4-event-signer.js";
export * from "./sigv4-event-verifier.js";
export * from "./validation.js";
