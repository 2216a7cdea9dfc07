// Input shapes of the operations Sluice implements, transcribed from SageMaker's service model
// (botocore sagemaker/2017-07-24/service-2.json; see service-model-enums.ts for the commit).
// Names, required members, lengths, patterns and enums are the model's. Two deliberate
// departures, both documented in unsupported-fields.ts:
//  - `ModelDataUrl` drops the model's `(https|s3)://` pattern: Sluice takes local paths and
//    `file://` URLs (checked in image.ts, which explains why an s3:// URL is refused);
//  - subtrees Sluice refuses outright (Clarify explainers, async inference, serverless) are only
//    checked for being objects: the refusal message is more useful than their constraints.

import {
  PRODUCTION_VARIANT_ACCELERATOR_TYPES,
  PRODUCTION_VARIANT_INFERENCE_AMI_VERSIONS,
  PRODUCTION_VARIANT_INSTANCE_TYPES,
} from "./service-model-enums.js";
import { bool, enumOf, float, int, list, map, str, struct, timestamp, type Shape } from "./validate.js";

// ── shared scalars ──────────────────────────────────────────────────────────────────────────
export const MODEL_NAME_PATTERN = "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?";
export const RESOURCE_NAME_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";

const ModelName = str({ max: 63, pattern: MODEL_NAME_PATTERN });
const EndpointName = str({ max: 63, pattern: RESOURCE_NAME_PATTERN });
const EndpointConfigName = str({ max: 63, pattern: RESOURCE_NAME_PATTERN });
const VariantName = str({ max: 63, pattern: RESOURCE_NAME_PATTERN });
const RoleArn = str({ min: 20, max: 2048, pattern: "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+" });
const KmsKeyId = str({ max: 2048, pattern: "[a-zA-Z0-9:/_-]*" });
const DestinationS3Uri = str({ max: 512, pattern: "(https|s3)://([^/])/?(.*)" });
const PaginationToken = str({ max: 8192, pattern: ".*" });
const MaxResults = int({ min: 1, max: 100 });
const NameContains = str({ max: 63, pattern: "[a-zA-Z0-9-]+" });
const OrderKey = enumOf(["Ascending", "Descending"]);
const ResourceArn = str({ max: 256, pattern: "arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:.+" });
const TagKey = str({ min: 1, max: 128, pattern: "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)" });
const TagValue = str({ max: 256, pattern: "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)" });
const Tag = struct({ Key: TagKey, Value: TagValue }, ["Key", "Value"]);
const TagList = list(Tag, { max: 50 });
/** A subtree Sluice refuses: only its JSON type is checked before the refusal. */
const Opaque: Shape = struct({});

export const EndpointStatuses = [
  "OutOfService",
  "Creating",
  "Updating",
  "SystemUpdating",
  "RollingBack",
  "InService",
  "Deleting",
  "Failed",
  "UpdateRollbackFailed",
] as const;

const VpcConfig = struct(
  {
    SecurityGroupIds: list(str({ max: 32, pattern: "[-0-9a-zA-Z]+" }), { min: 1, max: 5 }),
    Subnets: list(str({ max: 32, pattern: "[-0-9a-zA-Z]+" }), { min: 1, max: 16 }),
  },
  ["SecurityGroupIds", "Subnets"],
);

// ── CreateModel ─────────────────────────────────────────────────────────────────────────────
const ContainerDefinition = struct({
  ContainerHostname: str({ max: 63, pattern: "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}" }),
  Image: str({ max: 255, pattern: "[\\S]+" }),
  ImageConfig: struct(
    {
      RepositoryAccessMode: enumOf(["Platform", "Vpc"]),
      RepositoryAuthConfig: struct(
        { RepositoryCredentialsProviderArn: str({ min: 1, max: 2048, pattern: ".*" }) },
        ["RepositoryCredentialsProviderArn"],
      ),
    },
    ["RepositoryAccessMode"],
  ),
  Mode: enumOf(["SingleModel", "MultiModel"]),
  ModelDataUrl: str({ max: 1024 }),
  ModelDataSource: Opaque,
  AdditionalModelDataSources: list(Opaque, { max: 5 }),
  Environment: map(
    str({ max: 1024, pattern: "[a-zA-Z_][a-zA-Z0-9_]*" }),
    str({ max: 1024, pattern: "[\\S\\s]*" }),
    { max: 100 },
  ),
  ModelPackageName: str({ min: 1, max: 176 }),
  InferenceSpecificationName: str({ min: 1, max: 63, pattern: "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}" }),
  MultiModelConfig: Opaque,
  ContainerMetricsConfig: struct({
    MetricsEndpoints: list(
      struct(
        {
          MetricsEndpointPath: str({ max: 256, pattern: "/(?!.*\\.\\.)[a-zA-Z0-9/_.\\-]+" }),
          MetricPublishFrequencyInSeconds: int(),
        },
        ["MetricsEndpointPath"],
      ),
      { max: 1 },
    ),
  }),
});

export const CreateModelInput = struct(
  {
    ModelName,
    PrimaryContainer: ContainerDefinition,
    Containers: list(ContainerDefinition, { max: 15 }),
    InferenceExecutionConfig: struct({ Mode: enumOf(["Serial", "Direct"]) }, ["Mode"]),
    ExecutionRoleArn: RoleArn,
    Tags: TagList,
    VpcConfig,
    EnableNetworkIsolation: bool,
  },
  ["ModelName"],
);

export const DescribeModelInput = struct({ ModelName }, ["ModelName"]);
export const DeleteModelInput = DescribeModelInput;
/** ListModels and ListEndpointConfigs take the same members in SageMaker's model. */
const NameAndCreationListInput = struct({
  SortBy: enumOf(["Name", "CreationTime"]),
  SortOrder: OrderKey,
  NextToken: PaginationToken,
  MaxResults,
  NameContains,
  CreationTimeBefore: timestamp,
  CreationTimeAfter: timestamp,
});
export const ListModelsInput = NameAndCreationListInput;

// ── CreateEndpointConfig ────────────────────────────────────────────────────────────────────
const ProductionVariant = struct(
  {
    VariantName,
    ModelName,
    InitialInstanceCount: int({ min: 1 }),
    InstanceType: enumOf(PRODUCTION_VARIANT_INSTANCE_TYPES),
    InstancePools: list(Opaque, { min: 1, max: 5 }),
    VariantInstanceProvisionTimeoutInSeconds: int({ min: 300, max: 3600 }),
    InitialVariantWeight: float({ min: 0 }),
    AcceleratorType: enumOf(PRODUCTION_VARIANT_ACCELERATOR_TYPES),
    CoreDumpConfig: struct({ DestinationS3Uri, KmsKeyId }, ["DestinationS3Uri"]),
    ServerlessConfig: Opaque,
    VolumeSizeInGB: int({ min: 1, max: 512 }),
    ModelDataDownloadTimeoutInSeconds: int({ min: 60, max: 3600 }),
    ContainerStartupHealthCheckTimeoutInSeconds: int({ min: 60, max: 3600 }),
    EnableSSMAccess: bool,
    ManagedInstanceScaling: Opaque,
    RoutingConfig: struct(
      { RoutingStrategy: enumOf(["LEAST_OUTSTANDING_REQUESTS", "RANDOM"]) },
      ["RoutingStrategy"],
    ),
    InferenceAmiVersion: enumOf(PRODUCTION_VARIANT_INFERENCE_AMI_VERSIONS),
    CapacityReservationConfig: struct({
      CapacityReservationPreference: enumOf(["capacity-reservations-only"]),
      MlReservationArn: str({
        min: 20,
        max: 258,
        pattern: "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z0-9\\-]{1,14}/.*",
      }),
    }),
  },
  ["VariantName"],
);

const ContentTypePattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*";
const DataCaptureConfig = struct(
  {
    EnableCapture: bool,
    InitialSamplingPercentage: int({ min: 0, max: 100 }),
    DestinationS3Uri,
    KmsKeyId,
    CaptureOptions: list(
      struct({ CaptureMode: enumOf(["Input", "Output", "InputAndOutput"]) }, ["CaptureMode"]),
      { min: 1, max: 32 },
    ),
    CaptureContentTypeHeader: struct({
      CsvContentTypes: list(str({ min: 1, max: 256, pattern: ContentTypePattern }), { min: 1, max: 10 }),
      JsonContentTypes: list(str({ min: 1, max: 256, pattern: ContentTypePattern }), { min: 1, max: 10 }),
    }),
  },
  ["InitialSamplingPercentage", "DestinationS3Uri", "CaptureOptions"],
);

export const CreateEndpointConfigInput = struct(
  {
    EndpointConfigName,
    ProductionVariants: list(ProductionVariant, { min: 1, max: 10 }),
    DataCaptureConfig,
    Tags: TagList,
    KmsKeyId,
    AsyncInferenceConfig: Opaque,
    ExplainerConfig: Opaque,
    ShadowProductionVariants: list(ProductionVariant, { min: 1, max: 10 }),
    ExecutionRoleArn: RoleArn,
    VpcConfig,
    EnableNetworkIsolation: bool,
    MetricsConfig: struct({
      EnableEnhancedMetrics: bool,
      EnableDetailedObservability: bool,
      MetricPublishFrequencyInSeconds: int(),
    }),
  },
  ["EndpointConfigName", "ProductionVariants"],
);

export const DescribeEndpointConfigInput = struct({ EndpointConfigName }, ["EndpointConfigName"]);
export const DeleteEndpointConfigInput = DescribeEndpointConfigInput;
export const ListEndpointConfigsInput = NameAndCreationListInput;

// ── CreateEndpoint / UpdateEndpoint ─────────────────────────────────────────────────────────
const CapacitySize = struct(
  { Type: enumOf(["INSTANCE_COUNT", "CAPACITY_PERCENT"]), Value: int({ min: 1 }) },
  ["Type", "Value"],
);
const WaitIntervalInSeconds = int({ min: 0, max: 3600 });
const MaximumExecutionTimeoutInSeconds = int({ min: 600, max: 28800 });
const DeploymentConfig = struct({
  BlueGreenUpdatePolicy: struct(
    {
      TrafficRoutingConfiguration: struct(
        {
          Type: enumOf(["ALL_AT_ONCE", "CANARY", "LINEAR"]),
          WaitIntervalInSeconds,
          CanarySize: CapacitySize,
          LinearStepSize: CapacitySize,
        },
        ["Type", "WaitIntervalInSeconds"],
      ),
      TerminationWaitInSeconds: int({ min: 0, max: 3600 }),
      MaximumExecutionTimeoutInSeconds,
    },
    ["TrafficRoutingConfiguration"],
  ),
  RollingUpdatePolicy: struct(
    {
      MaximumBatchSize: CapacitySize,
      WaitIntervalInSeconds,
      MaximumExecutionTimeoutInSeconds,
      RollbackMaximumBatchSize: CapacitySize,
    },
    ["MaximumBatchSize", "WaitIntervalInSeconds"],
  ),
  AutoRollbackConfiguration: struct({
    Alarms: list(struct({ AlarmName: str({ min: 1, max: 255, pattern: "(?!\\s*$).+" }) }), { min: 1, max: 10 }),
  }),
});

export const CreateEndpointInput = struct(
  { EndpointName, EndpointConfigName, DeploymentConfig, Tags: TagList },
  ["EndpointName", "EndpointConfigName"],
);
export const DescribeEndpointInput = struct({ EndpointName }, ["EndpointName"]);
export const DeleteEndpointInput = DescribeEndpointInput;
export const ListEndpointsInput = struct({
  SortBy: enumOf(["Name", "CreationTime", "Status"]),
  SortOrder: OrderKey,
  NextToken: PaginationToken,
  MaxResults,
  NameContains,
  CreationTimeBefore: timestamp,
  CreationTimeAfter: timestamp,
  LastModifiedTimeBefore: timestamp,
  LastModifiedTimeAfter: timestamp,
  StatusEquals: enumOf(EndpointStatuses),
});
export const UpdateEndpointInput = struct(
  {
    EndpointName,
    EndpointConfigName,
    RetainAllVariantProperties: bool,
    ExcludeRetainedVariantProperties: list(
      struct(
        { VariantPropertyType: enumOf(["DesiredInstanceCount", "DesiredWeight", "DataCaptureConfig"]) },
        ["VariantPropertyType"],
      ),
      { max: 3 },
    ),
    DeploymentConfig,
    RetainDeploymentConfig: bool,
  },
  ["EndpointName", "EndpointConfigName"],
);
export const UpdateEndpointWeightsAndCapacitiesInput = struct(
  {
    EndpointName,
    DesiredWeightsAndCapacities: list(
      struct(
        {
          VariantName,
          DesiredWeight: float({ min: 0 }),
          DesiredInstanceCount: int({ min: 0 }),
          ServerlessUpdateConfig: Opaque,
        },
        ["VariantName"],
      ),
      { min: 1 },
    ),
  },
  ["EndpointName", "DesiredWeightsAndCapacities"],
);

// ── Tags ────────────────────────────────────────────────────────────────────────────────────
export const AddTagsInput = struct({ ResourceArn, Tags: TagList }, ["ResourceArn", "Tags"]);
export const ListTagsInput = struct(
  { ResourceArn, NextToken: PaginationToken, MaxResults: int({ min: 50 }) },
  ["ResourceArn"],
);
export const DeleteTagsInput = struct(
  { ResourceArn, TagKeys: list(TagKey, { min: 1, max: 50 }) },
  ["ResourceArn", "TagKeys"],
);

// ── Sluice.ListInstances (extension) ────────────────────────────────────────────────────────
export const ListInstancesInput = struct({ EndpointName, NextToken: PaginationToken, MaxResults });
