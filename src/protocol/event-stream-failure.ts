// A failure of the event stream itself, after the 200: the session ends with an
// `InternalStreamFailure` exception message whose Message is `reason` (DESIGN §2 error table).
// `detail` says what exactly was wrong, for logs; it never reaches the client, so a peer probing
// the parser learns nothing beyond the reason.

import { AwsError } from "./aws-error.js";
import type { InternalStreamFailureReason, StreamError } from "./events.js";

export class EventStreamFailure extends AwsError {
  readonly reason: InternalStreamFailureReason;
  readonly detail: string;

  constructor(reason: InternalStreamFailureReason, detail: string, options: { cause?: unknown } = {}) {
    super("InternalStreamFailure", 500, reason, options);
    this.reason = reason;
    this.detail = detail;
  }

  /** The exception event to send to the client. */
  toStreamError(): StreamError {
    return { kind: "InternalStreamFailure", Message: this.reason };
  }
}

export function malformedEvent(detail: string, cause?: unknown): EventStreamFailure {
  return new EventStreamFailure("MalformedEvent", detail, { cause });
}

export function isEventStreamFailure(value: unknown): value is EventStreamFailure {
  return value instanceof EventStreamFailure;
}
