// The client commands of `sluice`: thin, readable wrappers over the control-plane API.
import { createReadStream, existsSync, readFileSync, statSync, watch } from "node:fs";
import { ApiClient, ApiError } from "./api-client.js";
import { formatTable } from "./format-table.js";

export interface ClientFlags {
  endpointUrl: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  dataDir: string;
  json?: boolean;
  endpoint?: string;
  instance?: string;
  lines?: string;
  follow?: boolean;
  wait?: boolean;
}

interface InstanceRow {
  EndpointName: string;
  VariantName: string;
  InstanceId: string;
  Pid?: number;
  Port?: number;
  State: string;
  ActiveSessions: number;
  Restarts: number;
  StartedAt?: number;
  LogFile?: string;
}

function client(flags: ClientFlags): ApiClient {
  return new ApiClient(flags);
}

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function parseEnv(pairs: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (pairs as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`--env takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

export async function runDeploy(name: string, flags: ClientFlags & Record<string, unknown>): Promise<void> {
  const api = client(flags);
  const instances = Number(flags.instances ?? 1);
  if (!Number.isInteger(instances) || instances < 1) throw new Error("--instances takes a whole number of at least 1");
  const suffix = stamp();
  const modelName = `${name}-${suffix}`.slice(0, 63);
  const configName = `${name}-config-${suffix}`.slice(0, 63);
  const container: Record<string, unknown> = { Image: flags.image };
  if (flags.modelData) container.ModelDataUrl = flags.modelData;
  const env = parseEnv(flags.env);
  if (Object.keys(env).length > 0) container.Environment = env;
  await api.call("SageMaker.CreateModel", { ModelName: modelName, PrimaryContainer: container });
  await api.call("SageMaker.CreateEndpointConfig", {
    EndpointConfigName: configName,
    ProductionVariants: [{ VariantName: flags.variant ?? "AllTraffic", ModelName: modelName, InitialInstanceCount: instances, InstanceType: "ml.m5.large" }],
  });
  let updating = false;
  try {
    await api.call("SageMaker.CreateEndpoint", { EndpointName: name, EndpointConfigName: configName });
  } catch (err) {
    if (!(err instanceof ApiError && /already existing endpoint/.test(err.message))) throw err;
    await api.call("SageMaker.UpdateEndpoint", { EndpointName: name, EndpointConfigName: configName });
    updating = true;
  }
  process.stdout.write(`${updating ? "Updating" : "Creating"} endpoint ${name} (${flags.image}, ${instances} instance${instances > 1 ? "s" : ""})\n`);
  if (flags.wait === false) return;
  await waitForEndpoint(api, name, configName);
}

/** Shows instance states as they change until the endpoint serves the new config or fails. */
async function waitForEndpoint(api: ApiClient, name: string, configName: string): Promise<void> {
  let last = "";
  for (;;) {
    const ep = await api.call<Record<string, unknown>>("SageMaker.DescribeEndpoint", { EndpointName: name });
    const { Instances } = await api.call<{ Instances: InstanceRow[] }>("Sluice.ListInstances", { EndpointName: name });
    const line = `  ${ep.EndpointStatus}: ${Instances.map((i) => `${i.InstanceId} ${i.State}`).join(", ") || "no instances yet"}`;
    if (line !== last) process.stdout.write(line + "\n");
    last = line;
    if (ep.EndpointStatus === "InService" && ep.EndpointConfigName === configName) {
      process.stdout.write(`Endpoint ${name} is InService: ${ep.EndpointArn}\n`);
      return;
    }
    if (ep.EndpointStatus === "Failed" || (ep.EndpointStatus === "InService" && ep.FailureReason)) {
      throw new Error(`endpoint ${name} did not deploy:\n${ep.FailureReason ?? "(no reason given)"}`);
    }
    await sleep(POLL_MS);
  }
}

export async function runEndpoints(flags: ClientFlags): Promise<void> {
  const api = client(flags);
  const endpoints: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const page = await api.call<{ Endpoints: Record<string, unknown>[]; NextToken?: string }>("SageMaker.ListEndpoints", { NextToken: token, MaxResults: 100 });
    endpoints.push(...page.Endpoints);
    token = page.NextToken;
  } while (token);
  if (flags.json) return void process.stdout.write(JSON.stringify(endpoints, null, 2) + "\n");
  process.stdout.write(
    formatTable(
      ["NAME", "STATUS", "CREATED", "ARN"],
      endpoints.map((e) => [String(e.EndpointName), String(e.EndpointStatus), new Date(Number(e.CreationTime) * 1000).toISOString(), String(e.EndpointArn)]),
    ),
  );
}

async function listInstances(api: ApiClient, endpoint?: string): Promise<InstanceRow[]> {
  const rows: InstanceRow[] = [];
  let token: string | undefined;
  do {
    const page = await api.call<{ Instances: InstanceRow[]; NextToken?: string }>("Sluice.ListInstances", { EndpointName: endpoint, NextToken: token });
    rows.push(...page.Instances);
    token = page.NextToken;
  } while (token);
  return rows;
}

export async function runInstances(flags: ClientFlags): Promise<void> {
  const rows = await listInstances(client(flags), flags.endpoint);
  if (flags.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
  process.stdout.write(
    formatTable(
      ["ENDPOINT", "VARIANT", "INSTANCE", "PID", "PORT", "STATE", "SESSIONS", "RESTARTS", "STARTED"],
      rows.map((r) => [
        r.EndpointName,
        r.VariantName,
        r.InstanceId,
        String(r.Pid ?? "-"),
        String(r.Port ?? "-"),
        r.State,
        String(r.ActiveSessions),
        String(r.Restarts),
        r.StartedAt ? new Date(r.StartedAt * 1000).toISOString() : "-",
      ]),
    ),
  );
}

export async function runLogs(endpoint: string, flags: ClientFlags): Promise<void> {
  const rows = (await listInstances(client(flags), endpoint)).filter((r) => !flags.instance || r.InstanceId === flags.instance);
  if (rows.length === 0) throw new Error(`no instances of endpoint ${endpoint}${flags.instance ? ` named ${flags.instance}` : ""}`);
  const lines = Number(flags.lines ?? 50);
  for (const row of rows) {
    if (!row.LogFile || !existsSync(row.LogFile)) continue;
    const tail = readFileSync(row.LogFile, "utf8").split("\n").filter(Boolean).slice(-lines);
    for (const line of tail) process.stdout.write(`[${row.InstanceId}] ${line}\n`);
  }
  if (!flags.follow) return;
  for (const row of rows) {
    if (!row.LogFile || !existsSync(row.LogFile)) continue;
    let offset = statSync(row.LogFile).size;
    const file = row.LogFile;
    watch(file, () => {
      const size = statSync(file).size;
      if (size <= offset) return;
      const from = offset;
      offset = size;
      createReadStream(file, { start: from, end: size - 1, encoding: "utf8" }).on("data", (chunk) => {
        for (const line of String(chunk).split("\n").filter(Boolean)) process.stdout.write(`[${row.InstanceId}] ${line}\n`);
      });
    });
  }
  await new Promise(() => {});
}

export async function runDelete(endpoint: string, flags: ClientFlags): Promise<void> {
  const api = client(flags);
  await api.call("SageMaker.DeleteEndpoint", { EndpointName: endpoint });
  process.stdout.write(`Deleting endpoint ${endpoint}\n`);
  if (flags.wait === false) return;
  for (;;) {
    try {
      await api.call("SageMaker.DescribeEndpoint", { EndpointName: endpoint });
    } catch (err) {
      if (err instanceof ApiError && err.type === "ValidationException") break;
      throw err;
    }
    await sleep(POLL_MS);
  }
  process.stdout.write(`Endpoint ${endpoint} is deleted\n`);
}
