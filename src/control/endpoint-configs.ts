// CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig.
// Like models, configs are records; endpoints copy them into deployments, so deleting a config
// an endpoint runs is allowed (as in SageMaker) and harmless.

import { alreadyExists, arnFor, notFound } from "./arn.js";
import type { OperationContext } from "./context.js";
import { listByNameAndCreation, type NameAndCreationListRequest } from "./pagination.js";
import type { EndpointConfigRecord, EndpointConfigSpec, ProductionVariantSpec, Tag } from "./records.js";
import {
  CreateEndpointConfigInput,
  DeleteEndpointConfigInput,
  DescribeEndpointConfigInput,
  ListEndpointConfigsInput,
} from "./shapes.js";
import { checkTagKeys } from "./tags.js";
import { refuseUnsupported } from "./unsupported-fields.js";
import { validateInput, validationErrors, validationException } from "./validate.js";

interface CreateEndpointConfigRequest extends EndpointConfigSpec {
  EndpointConfigName: string;
  Tags?: Tag[];
}

export async function createEndpointConfig(ctx: OperationContext, raw: Record<string, unknown>): Promise<unknown> {
  const input = validateInput<CreateEndpointConfigRequest>(CreateEndpointConfigInput, raw);
  // Members the current model makes optional (InstancePools and serverless variants can stand
  // in for them) but that Sluice needs, because it refuses those alternatives.
  const missing: string[] = [];
  input.ProductionVariants.forEach((v, i) => {
    for (const member of ["ModelName", "InitialInstanceCount"] as const) {
      if (v[member] === undefined) {
        missing.push(
          `Value null at 'productionVariants.${i + 1}.member.${member.charAt(0).toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`,
        );
      }
    }
  });
  refuseUnsupported("CreateEndpointConfig", input);
  if (missing.length > 0) throw validationErrors(missing);
  const names = new Set<string>();
  for (const v of input.ProductionVariants) {
    const k = v.VariantName.toLowerCase();
    if (names.has(k)) throw validationException(`VariantName "${v.VariantName}" appears more than once; variant names must be unique.`);
    names.add(k);
  }
  checkTagKeys(input.Tags);
  for (const v of input.ProductionVariants) {
    if (ctx.store.getModel(v.ModelName) === undefined) {
      throw notFound("model", arnFor(ctx.region, ctx.accountId, "model", v.ModelName));
    }
  }
  const existing = ctx.store.getEndpointConfig(input.EndpointConfigName);
  if (existing !== undefined) throw alreadyExists("endpoint-config", existing.arn);

  const { EndpointConfigName, Tags, ...rest } = input;
  const spec: EndpointConfigSpec = {
    ...rest,
    // SageMaker reports the default weight in DescribeEndpointConfig.
    ProductionVariants: input.ProductionVariants.map(
      (v): ProductionVariantSpec => ({ ...v, InitialVariantWeight: v.InitialVariantWeight ?? 1 }),
    ),
  };
  const record: EndpointConfigRecord = {
    name: EndpointConfigName,
    arn: arnFor(ctx.region, ctx.accountId, "endpoint-config", EndpointConfigName),
    creationTime: ctx.now(),
    spec,
  };
  ctx.store.transaction(() => {
    ctx.store.insertEndpointConfig(record);
    if (Tags !== undefined && Tags.length > 0) ctx.store.putTags(record.arn, Tags);
  });
  return { EndpointConfigArn: record.arn };
}

export function requireEndpointConfig(ctx: OperationContext, name: string): EndpointConfigRecord {
  const c = ctx.store.getEndpointConfig(name);
  if (c === undefined) throw notFound("endpoint-config", arnFor(ctx.region, ctx.accountId, "endpoint-config", name));
  return c;
}

export function describeEndpointConfig(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointConfigName: string }>(DescribeEndpointConfigInput, raw);
  const c = requireEndpointConfig(ctx, input.EndpointConfigName);
  return {
    EndpointConfigName: c.name,
    EndpointConfigArn: c.arn,
    ...c.spec,
    CreationTime: c.creationTime,
  };
}

export function deleteEndpointConfig(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointConfigName: string }>(DeleteEndpointConfigInput, raw);
  const c = requireEndpointConfig(ctx, input.EndpointConfigName);
  ctx.store.transaction(() => {
    ctx.store.deleteEndpointConfig(c.name);
    ctx.store.deleteTags(c.arn);
  });
  return {};
}

export function listEndpointConfigs(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<NameAndCreationListRequest>(ListEndpointConfigsInput, raw);
  const page = listByNameAndCreation("ListEndpointConfigs", ctx.store.listEndpointConfigs(), input);
  return {
    EndpointConfigs: page.items.map((c) => ({
      EndpointConfigName: c.name,
      EndpointConfigArn: c.arn,
      CreationTime: c.creationTime,
    })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}
