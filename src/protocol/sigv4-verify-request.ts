// Server-side SigV4 check of an incoming request (DESIGN §2 step 2). The canonical request is
// rebuilt from exactly the headers the client listed in SignedHeaders: AWS's JS client signs
// the HTTP/2 pseudo-header `:authority`, other SDKs sign `host`, and each stands in for the
// other, so a request verifies over HTTP/2 and HTTP/1.1 alike. On success the result carries
// what the event-chain verifier needs; the secret stays inside `signingKey`.

import { timingSafeEqual } from "node:crypto";
import { parseAuthorization } from "./sigv4-authorization.js";
import { canonicalRequest, requestStringToSign, splitRequestTarget } from "./sigv4-canonical-request.js";
import { parseLongDate, toLongDate } from "./sigv4-dates.js";
import {
  incompleteSignature,
  invalidSignature,
  missingAuthenticationToken,
  signatureMismatch,
  unrecognizedClient,
} from "./sigv4-errors.js";
import { createScope, createSigningKeySource, hmac, KEY_TERMINATOR, type SigningKeySource } from "./sigv4-signing-key.js";

export const SIGNING_SERVICE = "sagemaker";
export const STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-EVENTS";
export const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;

export type IncomingHeaders = Record<string, string | string[] | undefined>;

export interface RequestToVerify {
  method: string;
  /** The request target as received: `:path` over HTTP/2, `req.url` over HTTP/1.1 (path and query). */
  target: string;
  /** Lower-case header names, pseudo-headers included (as node:http and node:http2 give them). */
  headers: IncomingHeaders;
  /**
   * Hex SHA-256 of the body when the body has been read. Omit it only for an event-stream body,
   * which is verified event by event; the request must then carry
   * `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-EVENTS`.
   */
  bodySha256?: string;
}

export interface KnownCredentials {
  secretAccessKey: string;
  /** When set, requests must carry this exact `x-amz-security-token`. */
  sessionToken?: string;
}

export interface VerifyRequestOptions {
  lookupCredentials: (accessKeyId: string) => KnownCredentials | undefined;
  /** Defaults to `sagemaker`. */
  service?: string;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  maxSkewMs?: number;
}

export interface VerifiedRequest {
  accessKeyId: string;
  region: string;
  service: string;
  /** `yyyymmdd/region/service/aws4_request` */
  scope: string;
  /** The request's x-amz-date. */
  longDate: string;
  /** The request signature (hex): the first prior signature of the event chain. */
  seedSignature: string;
  signedHeaders: string[];
  /** True when the body is an event stream whose events carry their own signatures. */
  streaming: boolean;
  /** Derives signing keys for the event chain without exposing the secret. */
  signingKey: SigningKeySource;
}

/** Throws `AwsError` (403) as AWS would. */
export function verifyRequest(request: RequestToVerify, options: VerifyRequestOptions): VerifiedRequest {
  const service = options.service ?? SIGNING_SERVICE;
  const authorization = header(request.headers, "authorization");
  if (authorization === undefined || authorization === "") throw missingAuthenticationToken();
  const auth = parseAuthorization(authorization);

  const longDate = header(request.headers, "x-amz-date");
  if (longDate === undefined) throw incompleteSignature("Authorization header requires existence of an 'X-Amz-Date' header.");
  const signedAt = parseLongDate(longDate);
  if (signedAt === undefined) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${longDate.slice(0, 32)}'.`);
  }
  if (auth.terminator !== KEY_TERMINATOR) {
    throw invalidSignature(`Credential should be scoped with a valid terminator: '${KEY_TERMINATOR}', not '${auth.terminator.slice(0, 32)}'.`);
  }
  if (auth.service !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'.`);
  if (auth.shortDate !== longDate.slice(0, 8)) {
    throw invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${auth.shortDate.slice(0, 16)}' != '${longDate.slice(0, 8)}', from '${longDate}'.`,
    );
  }
  if (!auth.signedHeaders.includes("host") && !auth.signedHeaders.includes(":authority")) {
    throw invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  checkSkew(longDate, signedAt, options.now?.() ?? Date.now(), options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);

  const known = options.lookupCredentials(auth.accessKeyId);
  if (known === undefined) throw unrecognizedClient();
  if (known.sessionToken !== undefined) {
    const token = header(request.headers, "x-amz-security-token");
    if (token === undefined || !auth.signedHeaders.includes("x-amz-security-token") || !equalStrings(token, known.sessionToken)) {
      throw unrecognizedClient();
    }
  }

  const { payloadHash, streaming } = payloadHashOf(request);
  const signedValues: Record<string, string> = {};
  for (const name of auth.signedHeaders) signedValues[name] = signedHeaderValue(request.headers, name);
  const { path, query } = splitRequestTarget(request.target);
  const canonical = canonicalRequest({ method: request.method.toUpperCase(), path, query, headers: signedValues, payloadHash });
  const scope = createScope(auth.shortDate, auth.region, service);
  const signingKey = createSigningKeySource(known.secretAccessKey, service);
  const expected = hmac(signingKey(auth.shortDate, auth.region), requestStringToSign(longDate, scope, canonical));
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, "hex"))) throw signatureMismatch();

  return {
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    service,
    scope,
    longDate,
    seedSignature: auth.signature,
    signedHeaders: auth.signedHeaders,
    streaming,
    signingKey,
  };
}

function checkSkew(longDate: string, signedAt: number, now: number, maxSkewMs: number): void {
  const window = `${Math.round(maxSkewMs / 60_000)} min.`;
  if (signedAt < now - maxSkewMs) {
    throw invalidSignature(
      `Signature expired: ${longDate} is now earlier than ${toLongDate(now - maxSkewMs)} (${toLongDate(now)} - ${window})`,
    );
  }
  if (signedAt > now + maxSkewMs) {
    throw invalidSignature(
      `Signature not yet current: ${longDate} is still later than ${toLongDate(now + maxSkewMs)} (${toLongDate(now)} + ${window})`,
    );
  }
}

function payloadHashOf(request: RequestToVerify): { payloadHash: string; streaming: boolean } {
  const declared = header(request.headers, "x-amz-content-sha256");
  if (request.bodySha256 === undefined) {
    if (declared !== STREAMING_PAYLOAD) {
      throw invalidSignature(`An event-stream request must carry 'x-amz-content-sha256: ${STREAMING_PAYLOAD}'.`);
    }
    return { payloadHash: STREAMING_PAYLOAD, streaming: true };
  }
  if (declared !== undefined && declared.toLowerCase() !== request.bodySha256.toLowerCase()) {
    throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return { payloadHash: declared ?? request.bodySha256.toLowerCase(), streaming: false };
}

/** A signed header's value; `host` and `:authority` answer for each other (HTTP/1.1 vs HTTP/2). */
function signedHeaderValue(headers: IncomingHeaders, name: string): string {
  const value = header(headers, name);
  if (value !== undefined) return value;
  if (name === "host") return header(headers, ":authority") ?? "";
  if (name === ":authority") return header(headers, "host") ?? "";
  return "";
}

function header(headers: IncomingHeaders, name: string): string | undefined {
  const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return Array.isArray(value) ? value.join(",") : value;
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
