// The CLI talks to Sluice through its public API like any client (DESIGN §3): AWS JSON 1.1,
// signed with SigV4 like the AWS SDKs sign.
import { signRequest } from "../protocol/sigv4-sign-request.js";
import { firstKeyOf } from "../server/credentials.js";
import * as http from "node:http";
import * as https from "node:https";
import { join } from "node:path";

export interface ApiClientOptions {
  endpointUrl: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  dataDir: string;
}

export class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** Credentials from flags, then SLUICE_*, then AWS_*, then <data-dir>/credentials. */
export function resolveCliCredentials(options: ApiClientOptions, env: NodeJS.ProcessEnv = process.env) {
  if (options.accessKeyId && options.secretAccessKey) {
    return { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken };
  }
  if (env.SLUICE_ACCESS_KEY_ID && env.SLUICE_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.SLUICE_ACCESS_KEY_ID, secretAccessKey: env.SLUICE_SECRET_ACCESS_KEY };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN };
  }
  const fromFile = firstKeyOf(join(options.dataDir, "credentials"));
  if (fromFile) return { accessKeyId: fromFile.accessKeyId, secretAccessKey: fromFile.secretAccessKey };
  return undefined;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async call<T = Record<string, unknown>>(target: string, input: unknown): Promise<T> {
    const url = new URL("/", this.options.endpointUrl);
    const body = JSON.stringify(input ?? {});
    const headers: Record<string, string> = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
      host: url.host,
    };
    const credentials = resolveCliCredentials(this.options);
    const signed = credentials
      ? (await signRequest({ method: "POST", path: url.pathname, headers, body, region: this.options.region, credentials })).headers
      : headers;
    let res: { status: number; errorType?: string; text: string };
    try {
      res = await post(url, signed, body);
    } catch (err) {
      throw new ApiError("NetworkError", 0, `Cannot reach Sluice at ${this.options.endpointUrl}: ${(err as Error).message}`);
    }
    const text = res.text;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new ApiError("InvalidResponse", res.status, `Sluice answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (res.status >= 300) {
      const type = String(parsed.__type ?? res.errorType ?? "Error").split("#").pop() as string;
      throw new ApiError(type, res.status, String(parsed.Message ?? parsed.message ?? text));
    }
    return parsed as T;
  }
}

/** node:http rather than fetch: fetch may rewrite the signed `host` header. */
function post(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; errorType?: string; text: string }> {
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        const errorType = res.headers["x-amzn-errortype"];
        resolve({ status: res.statusCode ?? 0, errorType: typeof errorType === "string" ? errorType : undefined, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
