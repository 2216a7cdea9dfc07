// Deploying endpoints for end-to-end tests through the control plane, with AWS's own SDK, as a
// user would: CreateModel → CreateEndpointConfig → CreateEndpoint, then DescribeEndpoint until
// InService (failing at once on Failed, with its FailureReason).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  type SageMakerClientConfig,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { REGION } from "./bidi.js";
import { REPO_ROOT, TEST_KEY, waitFor } from "./sluice.js";

/** Test model directories (test/models/<name>), absolute, as CreateModel's Image wants them. */
export function testModelDir(name: string): string {
  return resolve(REPO_ROOT, "test", "models", name);
}

export function controlClient(url: string, credentials = TEST_KEY, config: SageMakerClientConfig = {}): SageMakerClient {
  return new SageMakerClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1, ...config });
}

/** The same client with a region of the caller's choosing. */
export function sagemaker(url: string, region = REGION, credentials = TEST_KEY, config: SageMakerClientConfig = {}): SageMakerClient {
  return new SageMakerClient({ endpoint: url, region, credentials, maxAttempts: 1, ...config });
}

export interface EndpointSpec {
  name: string;
  /** `sluice/echo`, or a test model directory. */
  image: string;
  environment?: Record<string, string>;
  /** Variant name (default AllTraffic). */
  variantName?: string;
}

export async function deployEndpoint(sm: SageMakerClient, spec: EndpointSpec): Promise<void> {
  await deployVariants(sm, spec.name, [
    { name: spec.variantName ?? "AllTraffic", image: spec.image, environment: spec.environment },
  ]);
}

export interface VariantSpec {
  name: string;
  image: string;
  instances?: number;
  weight?: number;
  environment?: Record<string, string>;
  modelDataUrl?: string;
}

export interface DeployOptions {
  image?: string;
  instances?: number;
  variants?: (Omit<VariantSpec, "image"> & { image?: string })[];
  environment?: Record<string, string>;
  modelDataUrl?: string;
  /** Extra SDK client settings, e.g. a request handler that trusts a test CA. */
  clientConfig?: SageMakerClientConfig;
}

/** Deploys at a Sluice URL with a client of its own (variants default to one AllTraffic of echo). */
export async function deployAt(url: string, name: string, options: DeployOptions = {}): Promise<void> {
  const sm = controlClient(url, TEST_KEY, options.clientConfig);
  const image = options.image ?? "sluice/echo";
  const variants: VariantSpec[] = (options.variants ?? [{ name: "AllTraffic", instances: options.instances }]).map((v) => ({
    name: v.name,
    image: v.image ?? image,
    instances: v.instances ?? options.instances,
    weight: v.weight,
    environment: options.environment,
    modelDataUrl: options.modelDataUrl,
  }));
  try {
    await deployVariants(sm, name, variants);
  } finally {
    sm.destroy();
  }
}

/** One model per variant, one config, the endpoint; then waits for InService. */
export async function deployVariants(sm: SageMakerClient, name: string, variants: VariantSpec[]): Promise<void> {
  const modelName = (v: VariantSpec) => (variants.length === 1 ? `${name}-model` : `${name}-${v.name}-model`);
  for (const v of variants) {
    await sm.send(
      new CreateModelCommand({
        ModelName: modelName(v),
        PrimaryContainer: { Image: v.image, Environment: v.environment, ModelDataUrl: v.modelDataUrl },
        ExecutionRoleArn: "arn:aws:iam::000000000000:role/sluice-test",
      }),
    );
  }
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: variants.map((v) => ({
        VariantName: v.name,
        ModelName: modelName(v),
        InitialInstanceCount: v.instances ?? 1,
        InitialVariantWeight: v.weight ?? 1,
        InstanceType: "ml.m5.large",
      })),
    }),
  );
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
  const spec = { name };
  // waitFor retries on errors, so a Failed endpoint is returned, not thrown, to fail at once.
  const outcome = await waitFor(`endpoint ${spec.name} InService`, async () => {
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: spec.name }));
    if (d.EndpointStatus === "Failed") return `Failed: ${d.FailureReason}`;
    return d.EndpointStatus === "InService" ? "InService" : undefined;
  }, 60_000, 100);
  if (outcome !== "InService") throw new Error(`endpoint ${spec.name} ${outcome}`);
}

/** The JSON lines a behaving test model appended to its report file. */
export function readReport(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The value of an unlabelled gauge, or the sum of a metric's series in a Prometheus text page
 * (only the series carrying every label in `labels`, when given).
 */
export function metricValue(page: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of page.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? "";
    if (!Object.entries(labels).every(([k, v]) => set.split(",").includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    found = true;
  }
  if (!found) throw new Error(`metric ${name} ${JSON.stringify(labels)} not on the page`);
  return sum;
}

export async function fetchMetric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(new URL("/metrics", url));
  return metricValue(await res.text(), name, labels);
}
