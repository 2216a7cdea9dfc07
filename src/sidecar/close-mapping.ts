// How the container's end of a session reaches the client (DESIGN §2 error table). Only the
// WebSocket's own outcome is mapped here; endings the sidecar decides (heartbeat, grace, fail,
// cancel, drain) are decided where they happen and win over whatever close follows.
import type { StreamError } from "../protocol/events.js";

export interface Closure {
  /** The code of the container's close frame, 1005 if it had none, 1006 if none came. */
  code: number;
  reason: string;
  /** The last error the WebSocket reported (a socket error, or the container broke the protocol). */
  error?: Error & { code?: string };
}

/** Undefined for a clean end. */
export function streamErrorForClosure(closure: Closure, maxModelMessageBytes: number): StreamError | undefined {
  const { code, reason, error } = closure;
  if (error?.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
    return broken(`the model sent a message over the ${maxModelMessageBytes}-byte limit; the sidecar closed the WebSocket with 1009`);
  }
  if (error?.code?.startsWith("WS_ERR_")) {
    return broken(`the model broke the WebSocket protocol (${error.message}); the sidecar closed the WebSocket`);
  }
  // 1005: a close frame without a status code is still a deliberate, orderly close.
  if (code === 1000 || code === 1001 || code === 1005) return undefined;
  if (code === 1006) {
    const cause = error ? ` (${error.code ?? error.message})` : "";
    return broken(`the connection to the model ended without a WebSocket close${cause}`);
  }
  return {
    kind: "ModelStreamError",
    ErrorCode: "ModelClosed",
    Message: reason ? `the model closed the WebSocket with code ${code}: ${reason}` : `the model closed the WebSocket with code ${code}`,
  };
}

function broken(message: string): StreamError {
  return { kind: "ModelStreamError", ErrorCode: "StreamBroken", Message: message };
}

/** Close reasons are at most 123 bytes of UTF-8 (RFC 6455 §5.5); cut on a character boundary. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= 123) return text;
  let end = 123;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}
