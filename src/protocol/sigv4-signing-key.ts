// SigV4 signing keys: HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
// Verifying a stream derives one per event (each event is signed with its own date), so keys
// are cached per (date, region). The secret lives only in the closure: a key source can be
// logged or passed around without exposing it.

import { createHash, createHmac } from "node:crypto";

export const KEY_TERMINATOR = "aws4_request";

/** Returns the signing key for a short date (yyyymmdd) and region. */
export type SigningKeySource = (shortDate: string, region: string) => Uint8Array;

export function createSigningKeySource(secretAccessKey: string, service: string, maxEntries = 8): SigningKeySource {
  const cache = new Map<string, Uint8Array>();
  const source: SigningKeySource = (shortDate, region) => {
    const cacheKey = `${shortDate}/${region}`;
    let key = cache.get(cacheKey);
    if (key === undefined) {
      key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, shortDate), region), service), KEY_TERMINATOR);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, key);
    }
    return key;
  };
  return source;
}

export function createScope(shortDate: string, region: string, service: string): string {
  return `${shortDate}/${region}/${service}/${KEY_TERMINATOR}`;
}

export function hmac(key: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export const EMPTY_SHA256 = sha256Hex("");
