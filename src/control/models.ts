// CreateModel, DescribeModel, ListModels, DeleteModel.
// A model is a record only: nothing runs until an endpoint uses it, and the endpoint copies what
// it needs, so DeleteModel never touches a running endpoint.

import { alreadyExists, arnFor, notFound } from "./arn.js";
import type { OperationContext } from "./context.js";
import { classifyImage, hostForImage, inspectImage, modelDataPath } from "./image.js";
import { listByNameAndCreation, type NameAndCreationListRequest } from "./pagination.js";
import type { ContainerDefinition, ModelRecord, ModelSpec, Tag } from "./records.js";
import { CreateModelInput, DeleteModelInput, DescribeModelInput, ListModelsInput } from "./shapes.js";
import { checkTagKeys } from "./tags.js";
import { refuseUnsupported } from "./unsupported-fields.js";
import { validateInput, validationErrors, validationException } from "./validate.js";

interface CreateModelRequest extends ModelSpec {
  ModelName: string;
  Tags?: Tag[];
}

/** The one container a model runs: PrimaryContainer, or the only element of Containers. */
export function modelContainer(spec: ModelSpec): ContainerDefinition {
  const c = spec.PrimaryContainer ?? spec.Containers?.[0];
  if (c === undefined) throw new Error("model without a container");
  return c;
}

export async function createModel(ctx: OperationContext, raw: Record<string, unknown>): Promise<unknown> {
  const input = validateInput<CreateModelRequest>(CreateModelInput, raw);
  refuseUnsupported("CreateModel", input);
  if (input.PrimaryContainer !== undefined && input.Containers !== undefined) {
    throw validationException("Specify either PrimaryContainer or Containers, not both.");
  }
  if (input.PrimaryContainer === undefined && (input.Containers === undefined || input.Containers.length === 0)) {
    throw validationErrors([`Value null at 'primaryContainer' failed to satisfy constraint: Member must not be null`]);
  }
  if ((input.Containers?.length ?? 0) > 1) {
    throw validationException(
      "Containers with more than one container is not supported by Sluice (inference pipelines); give one PrimaryContainer.",
    );
  }
  const at = input.PrimaryContainer !== undefined ? "primaryContainer" : "containers.1.member";
  const container = modelContainer(input);
  if (container.Image === undefined) {
    throw validationErrors([`Value null at '${at}.image' failed to satisfy constraint: Member must not be null`]);
  }
  if (container.Mode === "MultiModel") {
    throw validationException("Mode MultiModel is not supported by Sluice (multi-model endpoints); use SingleModel.");
  }
  if (container.ModelDataUrl !== undefined) modelDataPath(container.ModelDataUrl);
  checkTagKeys(input.Tags);

  const image = container.Image;
  const host = hostForImage(ctx.hosts, image);
  // Local models are checked now (manifest present and readable), so a typo fails here and not
  // minutes later at CreateEndpoint. Container images are resolved at deployment, where a pull
  // may take its time; DeployedImages reports the result.
  if (classifyImage(image) !== "container") await inspectImage(host, image);

  const existing = ctx.store.getModel(input.ModelName);
  if (existing !== undefined) throw alreadyExists("model", existing.arn);
  const { ModelName, Tags, ...spec } = input;
  const record: ModelRecord = {
    name: ModelName,
    arn: arnFor(ctx.region, ctx.accountId, "model", ModelName),
    creationTime: ctx.now(),
    spec,
  };
  ctx.store.transaction(() => {
    ctx.store.insertModel(record);
    if (Tags !== undefined && Tags.length > 0) ctx.store.putTags(record.arn, Tags);
  });
  return { ModelArn: record.arn };
}

function requireModel(ctx: OperationContext, name: string): ModelRecord {
  const m = ctx.store.getModel(name);
  if (m === undefined) throw notFound("model", arnFor(ctx.region, ctx.accountId, "model", name));
  return m;
}

export function describeModel(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ ModelName: string }>(DescribeModelInput, raw);
  const m = requireModel(ctx, input.ModelName);
  return {
    ModelName: m.name,
    ...m.spec,
    EnableNetworkIsolation: m.spec.EnableNetworkIsolation ?? false,
    CreationTime: m.creationTime,
    ModelArn: m.arn,
  };
}

export function deleteModel(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ ModelName: string }>(DeleteModelInput, raw);
  const m = requireModel(ctx, input.ModelName);
  ctx.store.transaction(() => {
    ctx.store.deleteModel(m.name);
    ctx.store.deleteTags(m.arn);
  });
  return {};
}

export function listModels(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const page = listByNameAndCreation("ListModels", ctx.store.listModels(), validateInput<NameAndCreationListRequest>(ListModelsInput, raw));
  return {
    Models: page.items.map((m) => ({ ModelName: m.name, ModelArn: m.arn, CreationTime: m.creationTime })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}
