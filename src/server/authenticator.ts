// SigV4 on every signed API (DESIGN §1, issue 5): the request signature, and for event streams a
// verifier seeded from it that checks each event. With `--auth none` nothing is checked, but the
// region still comes from the credential scope so ARNs match what the client asked for.
import { EventVerifier } from "../protocol/sigv4-event-verifier.js";
import { parseAuthorization } from "../protocol/sigv4-authorization.js";
import { verifyRequest } from "../protocol/sigv4-verify-request.js";
import type { AuthRequest, Identity } from "./request-router.js";
import type { KeyStore } from "./credentials.js";

export interface AuthenticatorOptions {
  mode: "sigv4" | "none";
  keys?: KeyStore;
  defaultRegion: string;
  now?: () => number;
  maxSkewMs?: number;
}

export function createAuthenticator(options: AuthenticatorOptions) {
  return (request: AuthRequest): Identity => {
    if (options.mode === "none") {
      return { region: regionFromScope(request.headers.authorization) ?? options.defaultRegion };
    }
    const keys = options.keys;
    if (!keys) throw new Error("sigv4 authentication needs a key store");
    const target = request.query ? `${request.path}?${request.query}` : request.path;
    const verified = verifyRequest(
      { method: request.method, target, headers: request.headers, bodySha256: request.bodySha256 },
      {
        lookupCredentials: (id) => {
          const key = keys.lookup(id);
          return key && { secretAccessKey: key.secretAccessKey };
        },
        now: options.now,
        maxSkewMs: options.maxSkewMs,
      },
    );
    return {
      accessKeyId: verified.accessKeyId,
      region: verified.region,
      chain: verified.streaming ? new EventVerifier(verified) : undefined,
    };
  };
}

function regionFromScope(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== "string") return undefined;
  try {
    return parseAuthorization(authorization).region;
  } catch {
    return undefined;
  }
}
