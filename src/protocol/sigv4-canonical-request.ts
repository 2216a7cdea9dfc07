// The SigV4 canonical request, built by smithy's SignatureV4 (the code AWS's JS SDK signs with),
// so that what we verify is canonicalised exactly as what the client signed: path normalisation
// and double escaping, query sorting and escaping, header value trimming.

import { HttpRequest } from "@smithy/core/protocols";
import { Hash } from "@smithy/core/serde";
import { getCanonicalHeaders, SignatureV4Base } from "@smithy/signature-v4";
import { ALGORITHM } from "./sigv4-authorization.js";
import { sha256Hex } from "./sigv4-signing-key.js";

export const Sha256 = Hash.bind(null, "sha256");

export type QueryParameters = Record<string, string | string[]>;

export interface CanonicalRequestInput {
  method: string;
  /** The path as sent on the wire (still percent-encoded), without the query. */
  path: string;
  query: QueryParameters;
  /** Exactly the signed headers, by lower-case name. */
  headers: Record<string, string>;
  payloadHash: string;
}

// SignatureV4Base keeps its canonicalisation protected; this subclass only exposes it. It never
// signs, so it holds no credentials.
class Canonicalizer extends SignatureV4Base {
  constructor() {
    super({
      service: "unused",
      region: "unused",
      credentials: { accessKeyId: "", secretAccessKey: "" },
      sha256: Sha256,
      uriEscapePath: true,
    });
  }

  build(input: CanonicalRequestInput): string {
    const request = new HttpRequest({ method: input.method, path: input.path, query: input.query, headers: input.headers });
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(Object.keys(input.headers)));
    return this.createCanonicalRequest(request, canonicalHeaders, input.payloadHash);
  }
}

const canonicalizer = new Canonicalizer();

export function canonicalRequest(input: CanonicalRequestInput): string {
  return canonicalizer.build(input);
}

export function requestStringToSign(longDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** Splits a request target into its path and decoded query parameters (repeated keys become arrays). */
export function splitRequestTarget(target: string): { path: string; query: QueryParameters } {
  const hash = target.indexOf("#");
  if (hash >= 0) target = target.slice(0, hash);
  const mark = target.indexOf("?");
  if (mark < 0) return { path: target, query: {} };
  const query: QueryParameters = Object.create(null) as QueryParameters;
  for (const pair of target.slice(mark + 1).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    const existing = Object.hasOwn(query, key) ? query[key] : undefined;
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return { path: target.slice(0, mark), query };
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    // A stray "%" cannot have been produced by a signer that escapes; keep it so the check fails cleanly.
    return component;
  }
}
