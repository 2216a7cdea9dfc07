// Credentials and region, resolved like AWS's client does for the common cases: an explicit
// value or async provider, else the standard environment variables. A provider's result is
// reused until five minutes before its `expiration` (forever without one), as the SDK's
// memoised providers do, so a refreshing provider is not called on every request.

import type { SigningCredentials } from "../protocol/sigv4-sign-request.js";

export interface AwsCredentialIdentity extends SigningCredentials {
  expiration?: Date;
}

export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

const REFRESH_BEFORE_MS = 5 * 60 * 1000;

export class CredentialsError extends Error {
  override readonly name = "CredentialsProviderError";
}

export function credentialResolver(
  option: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<AwsCredentialIdentity> {
  if (option !== undefined && typeof option !== "function") {
    const fixed = option;
    return () => Promise.resolve(fixed);
  }
  const provider = option ?? (() => Promise.resolve(fromEnv(env)));
  let cached: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const current = cached ? await cached.catch(() => undefined) : undefined;
    if (current && (current.expiration === undefined || current.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS)) {
      return current;
    }
    cached = provider().then(checkCredentials);
    return cached;
  };
}

function fromEnv(env: NodeJS.ProcessEnv): AwsCredentialIdentity {
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  if (!accessKeyId || !secretAccessKey) {
    throw new CredentialsError(
      "Could not load credentials: pass `credentials` to the client or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
  }
  const sessionToken = env["AWS_SESSION_TOKEN"];
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

function checkCredentials(value: AwsCredentialIdentity): AwsCredentialIdentity {
  if (typeof value?.accessKeyId !== "string" || typeof value.secretAccessKey !== "string") {
    throw new CredentialsError("The credential provider returned no accessKeyId/secretAccessKey");
  }
  return value;
}

export function regionResolver(
  option: string | (() => Promise<string>) | undefined,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<string> {
  return async () => {
    const region = typeof option === "function" ? await option() : option ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"];
    if (!region) throw new Error("Region is missing: pass `region` to the client or set AWS_REGION");
    return region;
  };
}
