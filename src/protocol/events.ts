// The event shapes of InvokeEndpointWithBidirectionalStream, shared by the server, the sidecar
// and the client. Field names are the service model's (protocol.md §1.2–1.3).

export type DataType = "UTF8" | "BINARY";
export type CompletionState = "PARTIAL" | "COMPLETE";

export interface PayloadPart {
  Bytes: Uint8Array;
  /** Absent means BINARY. */
  DataType?: DataType;
  /** Absent means COMPLETE. */
  CompletionState?: CompletionState;
  /** Padding against token-length side channels; carried, never interpreted. */
  P?: string;
}

/** Error codes Sluice puts in `ModelStreamError.ErrorCode` (DESIGN §2 error table). */
export type ModelStreamErrorCode =
  | "StreamBroken"
  | "ModelClosed"
  | "ModelInvocationTimeExceeded"
  | "DrainDeadlineExceeded";

/** Messages Sluice puts in `InternalStreamFailure.Message`. */
export type InternalStreamFailureReason =
  | "InvalidSignature"
  | "MalformedEvent"
  | "PayloadTooLarge"
  | "IdleTimeout";

export type StreamError =
  | { kind: "ModelStreamError"; Message: string; ErrorCode: ModelStreamErrorCode | string }
  | { kind: "InternalStreamFailure"; Message: InternalStreamFailureReason | string };

/** One event of the response stream, as a client sees it before errors are thrown. */
export type ResponseEvent = { PayloadPart: PayloadPart };
export type RequestEvent = { PayloadPart: PayloadPart };
