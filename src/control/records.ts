// What the store holds. Specs are kept as the user sent them (after validation), so Describe*
// returns exactly the members that were given, no-op ones included.

export type EndpointStatus =
  | "OutOfService"
  | "Creating"
  | "Updating"
  | "SystemUpdating"
  | "RollingBack"
  | "InService"
  | "Deleting"
  | "Failed"
  | "UpdateRollbackFailed";

export interface Tag {
  Key: string;
  Value: string;
}

export interface ContainerDefinition {
  ContainerHostname?: string;
  Image?: string;
  ImageConfig?: unknown;
  Mode?: "SingleModel" | "MultiModel";
  ModelDataUrl?: string;
  Environment?: Record<string, string>;
  ContainerMetricsConfig?: unknown;
}

/** CreateModel's input minus ModelName and Tags. */
export interface ModelSpec {
  PrimaryContainer?: ContainerDefinition;
  Containers?: ContainerDefinition[];
  InferenceExecutionConfig?: unknown;
  ExecutionRoleArn?: string;
  VpcConfig?: unknown;
  EnableNetworkIsolation?: boolean;
}

export interface ModelRecord {
  name: string;
  arn: string;
  /** Epoch seconds. */
  creationTime: number;
  spec: ModelSpec;
}

export interface ProductionVariantSpec {
  VariantName: string;
  ModelName: string;
  InitialInstanceCount?: number;
  InstanceType?: string;
  InitialVariantWeight?: number;
  ContainerStartupHealthCheckTimeoutInSeconds?: number;
  [noOp: string]: unknown;
}

/** CreateEndpointConfig's input minus EndpointConfigName and Tags. */
export interface EndpointConfigSpec {
  ProductionVariants: ProductionVariantSpec[];
  DataCaptureConfig?: unknown;
  KmsKeyId?: string;
  [noOp: string]: unknown;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  creationTime: number;
  spec: EndpointConfigSpec;
}

/** One variant as deployed: everything needed to start its instances, copied at deploy time. */
export interface DeploymentVariant {
  variantName: string;
  modelName: string;
  image: string;
  /** Local path of ModelDataUrl. */
  modelDataPath?: string;
  environment: Record<string, string>;
  instanceType?: string;
  startupTimeoutSeconds?: number;
  desiredWeight: number;
  desiredInstanceCount: number;
  /** Set once the image has been inspected for this deployment. */
  resolvedImage?: string;
  resolutionTime?: number;
  bidiCapable?: boolean;
}

export interface DeploymentRecord {
  id: string;
  endpointName: string;
  endpointConfigName: string;
  createdAt: number;
  variants: DeploymentVariant[];
  /** The config's DataCaptureConfig, for DescribeEndpoint (a no-op). */
  dataCaptureConfig?: unknown;
}

export interface EndpointRecord {
  name: string;
  arn: string;
  /** The config the endpoint was last asked to run (DescribeEndpoint's EndpointConfigName). */
  endpointConfigName: string;
  status: EndpointStatus;
  failureReason?: string;
  creationTime: number;
  lastModifiedTime: number;
  /** The deployment serving traffic, once there is one. */
  currentDeploymentId?: string;
  /** The deployment being rolled out (Creating, Updating); equals current when settled. */
  desiredDeploymentId?: string;
  /** Returned as LastDeploymentConfig (a no-op). */
  deploymentConfig?: unknown;
}

export interface InstanceRow {
  instanceId: string;
  endpointName: string;
  deploymentId: string;
  variantName: string;
  hostKind: string;
  pid?: number;
  startTimeMs?: number;
  containerId?: string;
  port?: number;
  logFile: string;
}
