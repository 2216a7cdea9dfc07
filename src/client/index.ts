// `sluice/client`: a TypeScript client for InvokeEndpointWithBidirectionalStream, shaped like
// AWS's @aws-sdk/client-sagemaker-runtime-http2 so code moves between the two unchanged.

export { SageMakerRuntimeHTTP2Client, type SageMakerRuntimeHTTP2ClientConfig, type SendOptions } from "./client.js";
export { InvokeEndpointWithBidirectionalStreamCommand } from "./commands.js";
export {
  InputValidationError,
  InternalServerError,
  InternalStreamFailure,
  ModelError,
  ModelStreamError,
  SageMakerRuntimeHTTP2ServiceException,
  ServiceUnavailableError,
  type ResponseMetadata,
} from "./errors.js";
export { AbortError } from "./invoke-bidirectional-stream.js";
export type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "./credentials.js";
export type { TlsOptions } from "./http2-session.js";
export type {
  InvokeEndpointWithBidirectionalStreamInput,
  InvokeEndpointWithBidirectionalStreamOutput,
  RequestPayloadPart,
  RequestStreamEvent,
  ResponsePayloadPart,
  ResponseStreamEvent,
} from "./types.js";
