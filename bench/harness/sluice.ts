// Sluice as the system under test: `sluice serve` from dist/ (the compiled product, as users run
// it), signed with a key of the run's own, and the echo endpoint deployed through the SageMaker
// control-plane API like any user would. Its echo instance is also the target of the direct and
// nginx paths, so all three paths reach the very same process.

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ApiClient } from "../../src/cli/api-client.js";
import { DIST, startProcess, waitFor, type ManagedProcess } from "./processes.js";

export const ENDPOINT_NAME = "bench-echo";
export const REGION = "us-east-1";

export interface SluiceServer {
  readonly url: string;
  readonly pid: number;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly endpointName: string;
  readonly region: string;
  /** The echo instance Sluice started for the endpoint. */
  readonly instance: { port: number; pid: number };
  stop(): Promise<void>;
}

export interface SluiceOptions {
  core: number | undefined;
  nofile: number;
  /** Sessions the run may hold at once; Sluice's caps are raised to fit (its defaults are 1,000 per instance). */
  maxSessions: number;
  dir: string;
  /** Extra node flags for the Sluice process (`--cpu-prof` for profiles). */
  nodeFlags?: string[];
}

interface ListedInstance {
  EndpointName: string;
  InstanceId: string;
  Pid?: number;
  Port: number;
  State: string;
  InRotation: boolean;
}

export async function startSluice(options: SluiceOptions): Promise<SluiceServer> {
  const credentials = { accessKeyId: `AKIABENCH${randomBytes(6).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(30).toString("base64") };
  const dataDir = join(options.dir, "sluice-data");
  const cap = String(options.maxSessions + 100);
  const proc: ManagedProcess & { firstLine: Promise<string> } = startProcess({
    name: "sluice",
    command: process.execPath,
    args: [
      ...(options.nodeFlags ?? []),
      join(DIST, "src/cli/main.js"),
      "serve",
      "--host", "127.0.0.1",
      "--port", "0",
      "--data-dir", dataDir,
      "--region", REGION,
      "--max-sessions", cap,
      "--max-sessions-per-instance", cap,
    ],
    core: options.core,
    nofile: options.nofile,
    env: { SLUICE_ACCESS_KEY_ID: credentials.accessKeyId, SLUICE_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    logDir: options.dir,
  });
  try {
    const url = (await proc.firstLine).trim();
    if (!/^https?:\/\//.test(url)) throw new Error(`sluice serve printed "${url}" where its URL was expected`);
    const api = new ApiClient({ endpointUrl: url, region: REGION, ...credentials, dataDir });
    await api.call("SageMaker.CreateModel", { ModelName: ENDPOINT_NAME, PrimaryContainer: { Image: "sluice/echo" } });
    await api.call("SageMaker.CreateEndpointConfig", {
      EndpointConfigName: ENDPOINT_NAME,
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: ENDPOINT_NAME, InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
    });
    await api.call("SageMaker.CreateEndpoint", { EndpointName: ENDPOINT_NAME, EndpointConfigName: ENDPOINT_NAME });
    await waitFor("the echo endpoint to be InService", 60_000, async () => {
      const d = await api.call<{ EndpointStatus: string; FailureReason?: string }>("SageMaker.DescribeEndpoint", { EndpointName: ENDPOINT_NAME });
      if (d.EndpointStatus === "Failed") throw new Error(`endpoint failed: ${d.FailureReason}`);
      return d.EndpointStatus === "InService" ? true : undefined;
    });
    const instance = await waitFor("the echo instance in rotation", 30_000, async () => {
      const listed = await api.call<{ Instances: ListedInstance[] }>("Sluice.ListInstances", { EndpointName: ENDPOINT_NAME });
      const ready = listed.Instances.find((i) => i.InRotation && i.Pid !== undefined);
      return ready ? { port: ready.Port, pid: ready.Pid! } : undefined;
    });
    return { url, pid: proc.pid, credentials, endpointName: ENDPOINT_NAME, region: REGION, instance, stop: () => proc.stop(40_000) };
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
}
