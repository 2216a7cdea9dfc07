// CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
// UpdateEndpointWeightsAndCapacities, DeleteEndpoint.
// Each validates, writes the desired state (a deployment record copied from the config and its
// models) and returns at once; the reconciler does the slow part (DESIGN §3).

import { randomUUID } from "node:crypto";
import { AwsError } from "../protocol/aws-error.js";
import { alreadyExists, arnFor, notFound } from "./arn.js";
import type { OperationContext } from "./context.js";
import { requireEndpointConfig } from "./endpoint-configs.js";
import { hostForImage, modelDataPath } from "./image.js";
import { modelContainer } from "./models.js";
import { DEFAULT_MAX_RESULTS, nameContains, paginate, within } from "./pagination.js";
import type { DeploymentRecord, DeploymentVariant, EndpointConfigRecord, EndpointRecord, Tag } from "./records.js";
import {
  CreateEndpointInput,
  DeleteEndpointInput,
  DescribeEndpointInput,
  ListEndpointsInput,
  UpdateEndpointInput,
  UpdateEndpointWeightsAndCapacitiesInput,
} from "./shapes.js";
import { checkTagKeys } from "./tags.js";
import { refuseUnsupported } from "./unsupported-fields.js";
import { parseTimestamp, validateInput, validationException } from "./validate.js";

const instanceCount = (d: DeploymentRecord | undefined): number =>
  (d?.variants ?? []).reduce((sum, v) => sum + v.desiredInstanceCount, 0);

/**
 * SageMaker's account quota, as a machine-wide one: what every live endpoint asks for (both
 * deployments while a rollout runs) plus `delta` must stay within `maxInstances`.
 */
function checkInstanceLimit(ctx: OperationContext, delta: number): void {
  if (delta <= 0) return;
  let used = 0;
  for (const e of ctx.store.listEndpoints()) {
    if (e.status === "Failed" || e.status === "Deleting") continue;
    const current = e.currentDeploymentId ? ctx.store.getDeployment(e.currentDeploymentId) : undefined;
    used += instanceCount(current);
    if (e.desiredDeploymentId !== e.currentDeploymentId && e.desiredDeploymentId) {
      used += instanceCount(ctx.store.getDeployment(e.desiredDeploymentId));
    }
  }
  if (used + delta > ctx.maxInstances) {
    throw new AwsError(
      "ResourceLimitExceeded",
      400,
      `The account-level service limit 'instances' is ${ctx.maxInstances} Instances, with current utilization of ${used} Instances and a request delta of ${delta} Instances. Raise Sluice's instance limit (ControlPlane option maxInstances) if this machine can take more.`,
    );
  }
}

function endpointArn(ctx: OperationContext, name: string): string {
  return arnFor(ctx.region, ctx.accountId, "endpoint", name);
}

function requireEndpoint(ctx: OperationContext, name: string): EndpointRecord {
  const e = ctx.store.getEndpoint(name);
  if (e === undefined) throw notFound("endpoint", endpointArn(ctx, name));
  return e;
}

/**
 * Copies the config and the container of each of its models into a deployment, checking that
 * every model still exists and its image still has a host.
 */
function buildDeployment(ctx: OperationContext, endpointName: string, config: EndpointConfigRecord): DeploymentRecord {
  const variants = config.spec.ProductionVariants.map((v): DeploymentVariant => {
    const model = ctx.store.getModel(v.ModelName);
    if (model === undefined) throw notFound("model", arnFor(ctx.region, ctx.accountId, "model", v.ModelName));
    const c = modelContainer(model.spec);
    const image = c.Image!;
    hostForImage(ctx.hosts, image);
    return {
      variantName: v.VariantName,
      modelName: model.name,
      image,
      modelDataPath: c.ModelDataUrl === undefined ? undefined : modelDataPath(c.ModelDataUrl),
      environment: { ...(c.Environment ?? {}) },
      instanceType: v.InstanceType,
      startupTimeoutSeconds: v.ContainerStartupHealthCheckTimeoutInSeconds,
      desiredWeight: v.InitialVariantWeight ?? 1,
      desiredInstanceCount: v.InitialInstanceCount ?? 1,
    };
  });
  return {
    id: randomUUID(),
    endpointName,
    endpointConfigName: config.name,
    createdAt: ctx.now(),
    variants,
    dataCaptureConfig: config.spec.DataCaptureConfig,
  };
}

export function createEndpoint(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointName: string; EndpointConfigName: string; DeploymentConfig?: unknown; Tags?: Tag[] }>(
    CreateEndpointInput,
    raw,
  );
  refuseUnsupported("CreateEndpoint", input);
  checkTagKeys(input.Tags);
  const existing = ctx.store.getEndpoint(input.EndpointName);
  if (existing !== undefined) throw alreadyExists("endpoint", existing.arn);
  const config = requireEndpointConfig(ctx, input.EndpointConfigName);
  const deployment = buildDeployment(ctx, input.EndpointName, config);
  checkInstanceLimit(ctx, instanceCount(deployment));
  const now = ctx.now();
  const record: EndpointRecord = {
    name: input.EndpointName,
    arn: endpointArn(ctx, input.EndpointName),
    endpointConfigName: config.name,
    status: "Creating",
    creationTime: now,
    lastModifiedTime: now,
    desiredDeploymentId: deployment.id,
    deploymentConfig: input.DeploymentConfig,
  };
  ctx.store.transaction(() => {
    ctx.store.insertDeployment(deployment);
    ctx.store.insertEndpoint(record);
    if (input.Tags !== undefined && input.Tags.length > 0) ctx.store.putTags(record.arn, input.Tags);
  });
  ctx.reconciler.kick(record.name);
  return { EndpointArn: record.arn };
}

function variantSummaries(ctx: OperationContext, e: EndpointRecord, d: DeploymentRecord, pending: boolean): unknown[] {
  return d.variants.map((v) => {
    const rt = ctx.reconciler.variantRuntime(e.name, d.id, v.variantName);
    return {
      VariantName: v.variantName,
      DeployedImages:
        v.resolvedImage === undefined
          ? []
          : [{ SpecifiedImage: v.image, ResolvedImage: v.resolvedImage, ResolutionTime: v.resolutionTime }],
      // Weights apply at once (UpdateEndpointWeightsAndCapacities); a pending deployment's
      // variants take no traffic until the switch.
      CurrentWeight: pending ? 0 : v.desiredWeight,
      DesiredWeight: v.desiredWeight,
      CurrentInstanceCount: rt.currentInstanceCount,
      DesiredInstanceCount: v.desiredInstanceCount,
      ...(pending && v.instanceType !== undefined ? { InstanceType: v.instanceType } : {}),
      ...(rt.status.length > 0 ? { VariantStatus: rt.status } : {}),
    };
  });
}

function dataCaptureSummary(config: unknown): unknown {
  if (config === undefined || config === null) return undefined;
  const c = config as { EnableCapture?: boolean; InitialSamplingPercentage: number; DestinationS3Uri: string; KmsKeyId?: string };
  return {
    EnableCapture: c.EnableCapture ?? false,
    // Data capture is a no-op in Sluice: nothing is ever captured.
    CaptureStatus: "Stopped",
    CurrentSamplingPercentage: c.InitialSamplingPercentage,
    DestinationS3Uri: c.DestinationS3Uri,
    KmsKeyId: c.KmsKeyId ?? "",
  };
}

export function describeEndpoint(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointName: string }>(DescribeEndpointInput, raw);
  const e = requireEndpoint(ctx, input.EndpointName);
  const current = e.currentDeploymentId ? ctx.store.getDeployment(e.currentDeploymentId) : undefined;
  const desired = e.desiredDeploymentId ? ctx.store.getDeployment(e.desiredDeploymentId) : undefined;
  // Until the first deployment has served, the one being created is what there is to show.
  const shown = current ?? desired;
  const pending = current !== undefined && desired !== undefined && desired.id !== current.id ? desired : undefined;
  const body: Record<string, unknown> = {
    EndpointName: e.name,
    EndpointArn: e.arn,
    EndpointConfigName: shown?.endpointConfigName ?? e.endpointConfigName,
    EndpointStatus: e.status,
    CreationTime: e.creationTime,
    LastModifiedTime: e.lastModifiedTime,
  };
  if (shown !== undefined) {
    body.ProductionVariants = variantSummaries(ctx, e, shown, current === undefined && e.status !== "InService");
    const capture = dataCaptureSummary(shown.dataCaptureConfig);
    if (capture !== undefined) body.DataCaptureConfig = capture;
  }
  if (e.failureReason !== undefined) body.FailureReason = e.failureReason;
  if (e.deploymentConfig !== undefined) body.LastDeploymentConfig = e.deploymentConfig;
  if (pending !== undefined) {
    body.PendingDeploymentSummary = {
      EndpointConfigName: pending.endpointConfigName,
      ProductionVariants: variantSummaries(ctx, e, pending, true),
      StartTime: pending.createdAt,
    };
  }
  return body;
}

export function listEndpoints(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{
    SortBy?: "Name" | "CreationTime" | "Status";
    SortOrder?: "Ascending" | "Descending";
    NextToken?: string;
    MaxResults?: number;
    NameContains?: string;
    CreationTimeBefore?: unknown;
    CreationTimeAfter?: unknown;
    LastModifiedTimeBefore?: unknown;
    LastModifiedTimeAfter?: unknown;
    StatusEquals?: string;
  }>(ListEndpointsInput, raw);
  const cAfter = parseTimestamp(input.CreationTimeAfter);
  const cBefore = parseTimestamp(input.CreationTimeBefore);
  const mAfter = parseTimestamp(input.LastModifiedTimeAfter);
  const mBefore = parseTimestamp(input.LastModifiedTimeBefore);
  const items = ctx.store
    .listEndpoints()
    .filter(
      (e) =>
        nameContains(e.name, input.NameContains) &&
        within(e.creationTime, cAfter, cBefore) &&
        within(e.lastModifiedTime, mAfter, mBefore) &&
        (input.StatusEquals === undefined || e.status === input.StatusEquals),
    );
  const sortBy = input.SortBy ?? "CreationTime";
  const page = paginate({
    operation: "ListEndpoints",
    items,
    sortKey: (e) =>
      sortBy === "Name"
        ? [e.name.toLowerCase(), e.name]
        : sortBy === "Status"
          ? [e.status, e.creationTime, e.name.toLowerCase()]
          : [e.creationTime, e.name.toLowerCase()],
    descending: (input.SortOrder ?? "Descending") === "Descending",
    maxResults: input.MaxResults ?? DEFAULT_MAX_RESULTS,
    nextToken: input.NextToken,
  });
  return {
    Endpoints: page.items.map((e) => ({
      EndpointName: e.name,
      EndpointArn: e.arn,
      CreationTime: e.creationTime,
      LastModifiedTime: e.lastModifiedTime,
      EndpointStatus: e.status,
    })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

/** UpdateEndpoint and UpdateEndpointWeightsAndCapacities need a settled endpoint. */
function requireUpdatable(e: EndpointRecord): void {
  if (e.status === "InService") return;
  if (e.status === "Failed") {
    throw validationException(`Cannot update failed endpoint "${e.arn}". Delete it and create it again.`);
  }
  throw validationException(`Cannot update in-progress endpoint "${e.arn}".`);
}

export function updateEndpoint(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{
    EndpointName: string;
    EndpointConfigName: string;
    RetainAllVariantProperties?: boolean;
    ExcludeRetainedVariantProperties?: { VariantPropertyType: string }[];
    DeploymentConfig?: unknown;
    RetainDeploymentConfig?: boolean;
  }>(UpdateEndpointInput, raw);
  refuseUnsupported("UpdateEndpoint", input);
  const e = requireEndpoint(ctx, input.EndpointName);
  requireUpdatable(e);
  const config = requireEndpointConfig(ctx, input.EndpointConfigName);
  const next = buildDeployment(ctx, e.name, config);
  const current = e.currentDeploymentId ? ctx.store.getDeployment(e.currentDeploymentId) : undefined;
  if (input.RetainAllVariantProperties === true && current !== undefined) {
    const excluded = new Set((input.ExcludeRetainedVariantProperties ?? []).map((p) => p.VariantPropertyType));
    for (const v of next.variants) {
      const old = current.variants.find((o) => o.variantName.toLowerCase() === v.variantName.toLowerCase());
      if (old === undefined) continue;
      if (!excluded.has("DesiredInstanceCount")) v.desiredInstanceCount = old.desiredInstanceCount;
      if (!excluded.has("DesiredWeight")) v.desiredWeight = old.desiredWeight;
    }
  }
  // During the rollout the new instances run beside the old ones.
  checkInstanceLimit(ctx, instanceCount(next));
  ctx.store.transaction(() => {
    // Re-checked inside the transaction: nothing may have moved it since.
    const fresh = ctx.store.getEndpoint(e.name);
    if (fresh === undefined) throw notFound("endpoint", e.arn);
    requireUpdatable(fresh);
    ctx.store.insertDeployment(next);
    fresh.status = "Updating";
    fresh.desiredDeploymentId = next.id;
    fresh.failureReason = undefined;
    fresh.lastModifiedTime = ctx.now();
    if (input.RetainDeploymentConfig !== true) fresh.deploymentConfig = input.DeploymentConfig;
    ctx.store.updateEndpoint(fresh);
  });
  ctx.reconciler.kick(e.name);
  return { EndpointArn: e.arn };
}

export function updateEndpointWeightsAndCapacities(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{
    EndpointName: string;
    DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight?: number; DesiredInstanceCount?: number }[];
  }>(UpdateEndpointWeightsAndCapacitiesInput, raw);
  refuseUnsupported("UpdateEndpointWeightsAndCapacities", input);
  const e = requireEndpoint(ctx, input.EndpointName);
  requireUpdatable(e);
  const d = e.currentDeploymentId ? ctx.store.getDeployment(e.currentDeploymentId) : undefined;
  if (d === undefined) throw validationException(`Cannot update in-progress endpoint "${e.arn}".`);
  let countsChanged = false;
  const before = instanceCount(d);
  const seen = new Set<string>();
  for (const w of input.DesiredWeightsAndCapacities) {
    const v = d.variants.find((x) => x.variantName.toLowerCase() === w.VariantName.toLowerCase());
    if (v === undefined) {
      throw validationException(`The variant "${w.VariantName}" does not exist in endpoint "${e.arn}".`);
    }
    if (seen.has(v.variantName)) throw validationException(`The variant "${w.VariantName}" is listed more than once.`);
    seen.add(v.variantName);
    if (w.DesiredWeight === undefined && w.DesiredInstanceCount === undefined) {
      throw validationException(`Specify DesiredWeight, DesiredInstanceCount or both for variant "${w.VariantName}".`);
    }
    if (w.DesiredInstanceCount === 0) {
      throw validationException(
        `DesiredInstanceCount 0 is not supported by Sluice (scaling a variant to zero needs inference components); the minimum is 1.`,
      );
    }
    if (w.DesiredWeight !== undefined) v.desiredWeight = w.DesiredWeight;
    if (w.DesiredInstanceCount !== undefined && w.DesiredInstanceCount !== v.desiredInstanceCount) {
      v.desiredInstanceCount = w.DesiredInstanceCount;
      countsChanged = true;
    }
  }
  if (d.variants.every((v) => v.desiredWeight === 0)) {
    throw validationException("At least one variant must have a DesiredWeight greater than 0.");
  }
  checkInstanceLimit(ctx, instanceCount(d) - before);
  ctx.store.transaction(() => {
    const fresh = ctx.store.getEndpoint(e.name);
    if (fresh === undefined) throw notFound("endpoint", e.arn);
    requireUpdatable(fresh);
    ctx.store.updateDeployment(d);
    // Weights take effect at once; instance counts go through Updating like SageMaker's.
    if (countsChanged) fresh.status = "Updating";
    fresh.failureReason = undefined;
    fresh.lastModifiedTime = ctx.now();
    ctx.store.updateEndpoint(fresh);
  });
  ctx.reconciler.kick(e.name);
  return { EndpointArn: e.arn };
}

export function deleteEndpoint(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointName: string }>(DeleteEndpointInput, raw);
  const e = requireEndpoint(ctx, input.EndpointName);
  if (e.status !== "Deleting") ctx.store.setEndpointStatus(e.name, "Deleting", ctx.now(), e.failureReason);
  ctx.reconciler.kick(e.name);
  return {};
}
