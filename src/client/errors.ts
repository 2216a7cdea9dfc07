// The error classes AWS's client throws for this operation (@aws-sdk/client-sagemaker-runtime-http2
// models/errors.ts), so code written against AWS's client catches the same names with the same
// members. Unmodeled errors (the 403 auth types) are the base class with `name` set to the type,
// as AWS's client does.

export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

export interface ErrorResponseInfo {
  statusCode: number;
  headers: Record<string, string>;
}

export interface ServiceExceptionOptions {
  name: string;
  $fault: "client" | "server";
  message?: string;
  $metadata: ResponseMetadata;
  $response?: ErrorResponseInfo;
  cause?: unknown;
}

export class SageMakerRuntimeHTTP2ServiceException extends Error {
  readonly $fault: "client" | "server";
  $metadata: ResponseMetadata;
  $response?: ErrorResponseInfo;
  $retryable?: { throttling?: boolean };

  constructor(options: ServiceExceptionOptions) {
    super(options.message ?? "", options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, "name", { value: options.name, enumerable: true, writable: true, configurable: true });
    this.$fault = options.$fault;
    this.$metadata = options.$metadata;
    if (options.$response !== undefined) this.$response = options.$response;
  }
}

export interface ErrorMembers {
  Message?: string;
  ErrorCode?: string;
  $metadata: ResponseMetadata;
  $response?: ErrorResponseInfo;
}

export class InputValidationError extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  ErrorCode?: string;
  constructor(opts: ErrorMembers) {
    super({ ...opts, name: "InputValidationError", $fault: "client", message: opts.Message });
    this.Message = opts.Message;
    this.ErrorCode = opts.ErrorCode;
  }
}

export class InternalServerError extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  ErrorCode?: string;
  constructor(opts: ErrorMembers) {
    super({ ...opts, name: "InternalServerError", $fault: "server", message: opts.Message });
    this.Message = opts.Message;
    this.ErrorCode = opts.ErrorCode;
  }
}

export class ServiceUnavailableError extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  ErrorCode?: string;
  constructor(opts: ErrorMembers) {
    super({ ...opts, name: "ServiceUnavailableError", $fault: "server", message: opts.Message });
    this.Message = opts.Message;
    this.ErrorCode = opts.ErrorCode;
  }
}

export interface ModelErrorMembers extends ErrorMembers {
  OriginalStatusCode?: number;
  OriginalMessage?: string;
  LogStreamArn?: string;
}

export class ModelError extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  OriginalStatusCode?: number;
  OriginalMessage?: string;
  LogStreamArn?: string;
  ErrorCode?: string;
  constructor(opts: ModelErrorMembers) {
    super({ ...opts, name: "ModelError", $fault: "client", message: opts.Message });
    this.Message = opts.Message;
    this.OriginalStatusCode = opts.OriginalStatusCode;
    this.OriginalMessage = opts.OriginalMessage;
    this.LogStreamArn = opts.LogStreamArn;
    this.ErrorCode = opts.ErrorCode;
  }
}

/** Thrown from the response iterator: the model container failed mid-stream. */
export class ModelStreamError extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  ErrorCode?: string;
  constructor(opts: ErrorMembers) {
    super({ ...opts, name: "ModelStreamError", $fault: "client", message: opts.Message });
    this.Message = opts.Message;
    this.ErrorCode = opts.ErrorCode;
  }
}

/** Thrown from the response iterator: the platform failed mid-stream. */
export class InternalStreamFailure extends SageMakerRuntimeHTTP2ServiceException {
  Message?: string;
  constructor(opts: Omit<ErrorMembers, "ErrorCode">) {
    super({ ...opts, name: "InternalStreamFailure", $fault: "server", message: opts.Message });
    this.Message = opts.Message;
  }
}
