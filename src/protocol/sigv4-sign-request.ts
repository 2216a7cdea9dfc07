// Client-side SigV4 for our client and CLI, through smithy's SignatureV4 as AWS's JS SDK does.
// Over HTTP/2 the AWS SDK signs `:authority` instead of `host` (its host-header middleware
// replaces `host` with `:authority` before the signer runs, and SignatureV4 signs every header
// it is given): callers do the same by passing `:authority` in `headers`.

import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256, type QueryParameters } from "./sigv4-canonical-request.js";
import { SIGNING_SERVICE } from "./sigv4-verify-request.js";

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** URL path, percent-encoded as it goes on the wire. */
  path: string;
  query?: QueryParameters;
  /** Must include `:authority` (HTTP/2) or `host` (HTTP/1.1). For an event-stream body, set
   * `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-EVENTS` and pass no body. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  region: string;
  /** Defaults to `sagemaker`. */
  service?: string;
  credentials: SigningCredentials;
  /** Defaults to now. */
  date?: Date;
}

export interface SignedRequest {
  /** The headers to send: the input's plus `x-amz-date`, `authorization`, `x-amz-content-sha256`
   * and `x-amz-security-token` as applicable. */
  headers: Record<string, string>;
  /** Hex request signature: the seed of the event chain. */
  signature: string;
}

export async function signRequest(input: RequestToSign): Promise<SignedRequest> {
  if (input.headers[":authority"] === undefined && input.headers["host"] === undefined) {
    throw new TypeError("signRequest needs a ':authority' or 'host' header: the host must be signed");
  }
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: input.service ?? SIGNING_SERVICE,
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: input.method,
      path: input.path,
      query: input.query ?? {},
      headers: { ...input.headers },
      body: input.body,
    }),
    input.date === undefined ? {} : { signingDate: input.date },
  );
  const headers = signed.headers as Record<string, string>;
  const signature = /Signature=([0-9a-f]{64})/.exec(headers["authorization"] ?? "")?.[1];
  if (signature === undefined) throw new Error("SignatureV4 produced no signature");
  return { headers, signature };
}
