// Helpers for end-to-end tests of the control plane: the real AWS SDK clients pointed at a
// Sluice, raw AWS JSON 1.1 calls (signed or not) for what an SDK would never send, the
// `Sluice.ListInstances` extension, process liveness, and tiny local model directories.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { ApiClient } from "../../src/cli/api-client.js";
import { signRequest } from "../../src/protocol/sigv4-sign-request.js";
import { TEST_KEY, type SluiceProcess } from "./sluice.js";

export const REGION = "us-west-2";
export const ACCOUNT = "000000000000";

export type Credentials = { accessKeyId: string; secretAccessKey: string };

export function sagemaker(sluice: Pick<SluiceProcess, "url">, credentials: Credentials = TEST_KEY, region = REGION): SageMakerClient {
  // maxAttempts 1: a test sees exactly what Sluice answered, never a retry of it.
  return new SageMakerClient({ endpoint: sluice.url, region, credentials, maxAttempts: 1 });
}

export function runtime(sluice: Pick<SluiceProcess, "url">, credentials: Credentials = TEST_KEY, region = REGION): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ endpoint: sluice.url, region, credentials, maxAttempts: 1 });
}

/** One row of `Sluice.ListInstances`. */
export interface InstanceRow {
  EndpointName: string;
  VariantName: string;
  InstanceId: string;
  Pid?: number;
  Host: string;
  Port: number;
  State: string;
  InRotation: boolean;
  ActiveSessions: number;
  Restarts: number;
  StartedAt: number;
  LogFile: string;
}

export function apiClient(sluice: Pick<SluiceProcess, "url" | "dataDir">, credentials: Credentials = TEST_KEY, region = REGION): ApiClient {
  return new ApiClient({ endpointUrl: sluice.url, region, dataDir: sluice.dataDir, ...credentials });
}

/** Every instance (all pages), optionally of one endpoint. */
export async function listInstances(sluice: Pick<SluiceProcess, "url" | "dataDir">, endpointName?: string, credentials?: Credentials): Promise<InstanceRow[]> {
  const api = apiClient(sluice, credentials);
  const rows: InstanceRow[] = [];
  let token: string | undefined;
  do {
    const page = await api.call<{ Instances: InstanceRow[]; NextToken?: string }>("Sluice.ListInstances", {
      ...(endpointName === undefined ? {} : { EndpointName: endpointName }),
      ...(token === undefined ? {} : { NextToken: token }),
    });
    rows.push(...page.Instances);
    token = page.NextToken;
  } while (token);
  return rows;
}

/** True while the process exists and is not a zombie (an orphan may wait a moment to be reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3, after the parenthesised command name (which may itself contain spaces or parens).
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Last resort for tests that SIGKILL Sluice: kills whatever of these process groups is left. */
export function killGroups(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** GET /ping on an instance's port, straight to the instance (not through Sluice). */
export async function pingInstance(port: number, host = "127.0.0.1"): Promise<number> {
  const res = await fetch(`http://${host}:${port}/ping`, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.status;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown> | undefined;
}

export interface RawCallOptions {
  /** Sign with these credentials (default TEST_KEY); `false` sends the request unsigned. */
  sign?: Credentials | false;
  contentType?: string;
  region?: string;
  /** Send without content-length (chunked), as a client streaming its body would. */
  chunked?: boolean;
}

/** An AWS JSON 1.1 call with exactly this body, over node:http (fetch may rewrite signed headers). */
export async function rawCall(url: string, target: string, body: string | Buffer, options: RawCallOptions = {}): Promise<RawResponse> {
  const u = new URL("/", url);
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  let headers: Record<string, string> = {
    "content-type": options.contentType ?? "application/x-amz-json-1.1",
    "x-amz-target": target,
    host: u.host,
  };
  if (options.sign !== false) {
    const signed = await signRequest({
      method: "POST",
      path: "/",
      headers,
      body: bytes,
      region: options.region ?? REGION,
      credentials: options.sign ?? TEST_KEY,
    });
    headers = signed.headers;
  }
  if (!options.chunked) headers["content-length"] = String(bytes.length);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.chunked) {
      // A few writes, so the server sees the body arrive in pieces with no declared length.
      const piece = 64 * 1024;
      for (let i = 0; i < bytes.length; i += piece) req.write(bytes.subarray(i, i + piece));
      req.end();
    } else {
      req.end(bytes);
    }
  });
}

/**
 * Writes a local model directory (DESIGN §1): `sluice-model.json` running `node server.mjs serve`
 * with `source` as server.mjs. Returns the directory's absolute path, usable as `Image`.
 */
export function writeLocalModel(parent: string, name: string, source: string, manifest: Record<string, unknown> = {}): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "server.mjs"), source);
  writeFileSync(join(dir, "sluice-model.json"), JSON.stringify({ command: ["node", "server.mjs"], ...manifest }, null, 2));
  return dir;
}

/** A model whose /ping answers 500 for ever; it says so in its log. */
export const NEVER_READY_MODEL = `
import { createServer } from "node:http";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
console.log("never-ready: loading weights from /nowhere");
createServer((req, res) => {
  if (req.url === "/ping") console.log("never-ready: /ping answered 500 (weights not loaded)");
  res.writeHead(500).end("not ready");
}).listen(port, "127.0.0.1", () => console.log("never-ready: listening on " + port));
`;

/** A model that fails at once, saying why on stderr. */
export const EXITS_AT_ONCE_MODEL = `
console.log("exits-at-once: starting");
console.error("exits-at-once: FATAL cannot open weights file /models/missing.bin");
process.exit(3);
`;

/** A model that answers /ping 503 until the file named by GATE_FILE exists, then 200; echoes /invocations. */
export const GATED_MODEL = `
import { createServer } from "node:http";
import { existsSync } from "node:fs";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
createServer((req, res) => {
  if (req.url === "/ping") return res.writeHead(existsSync(process.env.GATE_FILE) ? 200 : 503).end();
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.concat(chunks)));
}).listen(port, "127.0.0.1");
`;

/** A healthy model that ignores SIGTERM, so stopping it takes the whole stop grace. */
export const IGNORES_SIGTERM_MODEL = `
import { createServer } from "node:http";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
process.on("SIGTERM", () => console.log("ignores-sigterm: SIGTERM ignored"));
createServer((req, res) => res.writeHead(200).end()).listen(port, "127.0.0.1");
`;
