// The one place that says what Sluice does with each service-model member it does not simply
// honour (DESIGN §1). A member is either
//  - "no-op": accepted, validated against the model, stored and returned by Describe*, but it
//    changes nothing (there is no IAM, VPC, KMS or S3 here), or
//  - "unsupported": refused with ValidationException "<Field> is not supported by Sluice", because
//    silently ignoring it would change what the user's deployment means.
// Every other member of the implemented operations is honoured. The README renders this table.

import { validationException } from "./validate.js";

export type FieldDisposition = "no-op" | "unsupported";

export interface FieldPolicy {
  operation: string;
  /** Member path; `[]` walks every element of a list. */
  field: string;
  disposition: FieldDisposition;
  /** Why, in words a user can act on. */
  note: string;
}

const noop = (operation: string, field: string, note: string): FieldPolicy => ({
  operation,
  field,
  disposition: "no-op",
  note,
});
const unsupported = (operation: string, field: string, note: string): FieldPolicy => ({
  operation,
  field,
  disposition: "unsupported",
  note,
});

const container = (prefix: string): FieldPolicy[] => [
  noop("CreateModel", `${prefix}.ContainerHostname`, "one container per model; the hostname names nothing"),
  noop("CreateModel", `${prefix}.ImageConfig`, "images are pulled with the Docker host's own credentials"),
  noop("CreateModel", `${prefix}.ContainerMetricsConfig`, "no CloudWatch; /metrics is Sluice's own"),
  unsupported("CreateModel", `${prefix}.ModelDataSource`, "use ModelDataUrl with a local path or file:// URL"),
  unsupported("CreateModel", `${prefix}.AdditionalModelDataSources`, "use ModelDataUrl with a local path or file:// URL"),
  unsupported("CreateModel", `${prefix}.ModelPackageName`, "there is no model registry; give Image"),
  unsupported("CreateModel", `${prefix}.InferenceSpecificationName`, "there is no model registry; give Image"),
  unsupported("CreateModel", `${prefix}.MultiModelConfig`, "multi-model endpoints are not supported"),
];

export const FIELD_POLICIES: readonly FieldPolicy[] = [
  // CreateModel
  noop("CreateModel", "ExecutionRoleArn", "no IAM: instances run with Sluice's own permissions"),
  noop("CreateModel", "VpcConfig", "instances listen on loopback only"),
  noop("CreateModel", "EnableNetworkIsolation", "instances are not network-isolated"),
  noop("CreateModel", "InferenceExecutionConfig", "only meaningful for several containers, which are not supported"),
  ...container("PrimaryContainer"),
  ...container("Containers[]"),
  // CreateEndpointConfig
  noop("CreateEndpointConfig", "KmsKeyId", "no KMS: storage is the local data dir"),
  noop("CreateEndpointConfig", "DataCaptureConfig", "no data capture to S3"),
  noop("CreateEndpointConfig", "ExecutionRoleArn", "no IAM"),
  noop("CreateEndpointConfig", "VpcConfig", "instances listen on loopback only"),
  noop("CreateEndpointConfig", "EnableNetworkIsolation", "instances are not network-isolated"),
  noop("CreateEndpointConfig", "MetricsConfig", "no CloudWatch; /metrics is Sluice's own"),
  unsupported("CreateEndpointConfig", "AsyncInferenceConfig", "asynchronous inference is not supported"),
  unsupported("CreateEndpointConfig", "ExplainerConfig", "SageMaker Clarify explainers are not supported"),
  unsupported("CreateEndpointConfig", "ShadowProductionVariants", "shadow variants are not supported"),
  noop("CreateEndpointConfig", "ProductionVariants[].InstanceType", "recorded and passed to the host; it does not size anything"),
  noop("CreateEndpointConfig", "ProductionVariants[].VolumeSizeInGB", "instances use the local disk"),
  noop("CreateEndpointConfig", "ProductionVariants[].ModelDataDownloadTimeoutInSeconds", "model data is local; nothing is downloaded"),
  noop("CreateEndpointConfig", "ProductionVariants[].VariantInstanceProvisionTimeoutInSeconds", "instances start at once; the start timeout is ContainerStartupHealthCheckTimeoutInSeconds"),
  noop("CreateEndpointConfig", "ProductionVariants[].CoreDumpConfig", "no core dumps to S3"),
  noop("CreateEndpointConfig", "ProductionVariants[].EnableSSMAccess", "no SSM; instance logs are under <data-dir>/logs"),
  noop("CreateEndpointConfig", "ProductionVariants[].RoutingConfig", "routing always picks the instance with the fewest active sessions"),
  noop("CreateEndpointConfig", "ProductionVariants[].InferenceAmiVersion", "instances run on this machine"),
  noop("CreateEndpointConfig", "ProductionVariants[].CapacityReservationConfig", "no capacity reservations"),
  unsupported("CreateEndpointConfig", "ProductionVariants[].ServerlessConfig", "give InitialInstanceCount instead"),
  unsupported("CreateEndpointConfig", "ProductionVariants[].InstancePools", "give one InstanceType (a no-op) instead"),
  unsupported("CreateEndpointConfig", "ProductionVariants[].AcceleratorType", "Elastic Inference accelerators are not supported"),
  unsupported("CreateEndpointConfig", "ProductionVariants[].ManagedInstanceScaling", "use UpdateEndpointWeightsAndCapacities to scale"),
  // CreateEndpoint / UpdateEndpoint
  noop("CreateEndpoint", "DeploymentConfig", "returned as LastDeploymentConfig; every rollout is all at once: new instances start, traffic switches when they are healthy, old ones drain"),
  noop("UpdateEndpoint", "DeploymentConfig", "as for CreateEndpoint"),
  // The entry names the one property of the list that is a no-op; the others are honoured.
  noop("UpdateEndpoint", "ExcludeRetainedVariantProperties[DataCaptureConfig]", "data capture is a no-op"),
  unsupported("UpdateEndpointWeightsAndCapacities", "DesiredWeightsAndCapacities[].ServerlessUpdateConfig", "serverless variants are not supported"),
];

function present(value: unknown, path: string[]): boolean {
  if (value === null || value === undefined) return false;
  if (path.length === 0) return true;
  const [head, ...rest] = path as [string, ...string[]];
  if (head.endsWith("[]")) {
    const items = (value as Record<string, unknown>)[head.slice(0, -2)];
    return Array.isArray(items) && items.some((item) => present(item, rest));
  }
  if (typeof value !== "object") return false;
  return present((value as Record<string, unknown>)[head], rest);
}

/** Throws ValidationException for the first unsupported member the input carries. */
export function refuseUnsupported(operation: string, input: unknown): void {
  for (const policy of FIELD_POLICIES) {
    if (policy.operation !== operation || policy.disposition !== "unsupported") continue;
    if (present(input, policy.field.split("."))) {
      const name = policy.field.replace(/\[\]/g, "");
      throw validationException(`${name} is not supported by Sluice (${policy.note}).`);
    }
  }
}
