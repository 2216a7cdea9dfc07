// Input and output shapes of InvokeEndpointWithBidirectionalStream, as AWS's client declares
// them (models_0.ts): header members are plain strings there, so they are here too.

import type { ResponseMetadata } from "./errors.js";

export interface RequestPayloadPart {
  Bytes?: Uint8Array | undefined;
  /** "UTF8" or "BINARY" (absent means BINARY). */
  DataType?: string | undefined;
  /** "PARTIAL" or "COMPLETE" (absent means COMPLETE). */
  CompletionState?: string | undefined;
  /** Padding against token-length side channels. */
  P?: string | undefined;
}

export interface RequestStreamEvent {
  PayloadPart: RequestPayloadPart;
}

export type ResponsePayloadPart = RequestPayloadPart;

export interface ResponseStreamEvent {
  PayloadPart: ResponsePayloadPart;
}

export interface InvokeEndpointWithBidirectionalStreamInput {
  EndpointName: string | undefined;
  Body: AsyncIterable<RequestStreamEvent> | undefined;
  TargetVariant?: string | undefined;
  ModelInvocationPath?: string | undefined;
  ModelQueryString?: string | undefined;
}

export interface InvokeEndpointWithBidirectionalStreamOutput {
  /** Response events. `ModelStreamError` and `InternalStreamFailure` are thrown from it. */
  Body: AsyncIterable<ResponseStreamEvent>;
  InvokedProductionVariant?: string | undefined;
  $metadata: ResponseMetadata;
}
