// What both examples share: the flags that say where Sluice is and who is calling, and the
// credentials lookup the `sluice` CLI uses (flags, then SLUICE_* / AWS_* environment, then the
// credentials file Sluice generated in --data-dir).
import type { ParseArgsConfig } from "node:util";
import { resolveCliCredentials } from "../src/cli/api-client.js";
import { SageMakerRuntimeHTTP2Client } from "../src/client/index.js";

export const COMMON_OPTIONS = {
  "endpoint-url": { type: "string", default: "http://127.0.0.1:8443" },
  "endpoint-name": { type: "string", default: "echo" },
  region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
  "data-dir": { type: "string", default: ".sluice" },
  "access-key-id": { type: "string" },
  "secret-access-key": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

export interface Common {
  endpointUrl: string;
  endpointName: string;
  region: string;
  client: SageMakerRuntimeHTTP2Client;
}

/** The client for the flags given; exits with a message when no credentials can be found. */
export function clientFrom(values: Record<string, string | boolean | undefined>): Common {
  const endpointUrl = String(values["endpoint-url"]);
  const region = String(values.region);
  const credentials = resolveCliCredentials({
    endpointUrl,
    region,
    dataDir: String(values["data-dir"]),
    accessKeyId: values["access-key-id"] as string | undefined,
    secretAccessKey: values["secret-access-key"] as string | undefined,
  });
  if (!credentials) {
    fail(`no credentials: pass --access-key-id/--secret-access-key, set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or point --data-dir at Sluice's data directory`);
  }
  const client = new SageMakerRuntimeHTTP2Client({ region, endpoint: endpointUrl, credentials });
  return { endpointUrl, endpointName: String(values["endpoint-name"]), region, client };
}

/** `1s`, `250ms` or a bare number of milliseconds. */
export function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) fail(`not a duration: ${text} (use e.g. 1s or 250ms)`);
  return Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
}

export function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

/** Prints an error thrown by the client as AWS's client would name it, and sets exit code 1. */
export function report(err: unknown): void {
  const e = err as { name?: string; message?: string; ErrorCode?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.ErrorCode ? ` (${e.ErrorCode})` : "";
  const status = e.$metadata?.httpStatusCode ? ` [HTTP ${e.$metadata.httpStatusCode}]` : "";
  console.error(`${e.name ?? "Error"}${code}${status}: ${e.message ?? String(err)}`);
  process.exitCode = 1;
}
