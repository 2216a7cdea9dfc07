// Errors are values with an AWS error type, an HTTP status and a message a user can act on
// (DESIGN §6). Every API surface turns an AwsError into its protocol's error shape.

export interface AwsErrorOptions {
  /** Extra members of the error shape, e.g. ModelError's OriginalStatusCode. */
  fields?: Record<string, unknown>;
  /** Extra response headers. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly fields: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(type: string, status: number, message: string, options: AwsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = type;
    this.type = type;
    this.status = status;
    this.fields = options.fields ?? {};
    this.headers = options.headers ?? {};
  }

  /** The JSON body both AWS JSON 1.1 and restJson1 clients read. */
  toJSON(): Record<string, unknown> {
    return { __type: this.type, Message: this.message, message: this.message, ...this.fields };
  }
}

export function isAwsError(value: unknown): value is AwsError {
  return value instanceof AwsError;
}
