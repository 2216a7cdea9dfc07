// AddTags, ListTags, DeleteTags, and the tag rules CreateModel/CreateEndpointConfig/CreateEndpoint
// share. Tags are kept per ARN and go with their resource when it is deleted.

import { notFound, parseArn, type ResourceKind } from "./arn.js";
import type { OperationContext } from "./context.js";
import { paginate } from "./pagination.js";
import type { Tag } from "./records.js";
import { AddTagsInput, DeleteTagsInput, ListTagsInput } from "./shapes.js";
import { validateInput, validationException } from "./validate.js";

export const MAX_TAGS_PER_RESOURCE = 50;

/** User tags may not use the `aws:` prefix, which AWS reserves for its own. */
export function checkTagKeys(tags: readonly Tag[] | undefined): void {
  for (const t of tags ?? []) {
    if (t.Key.toLowerCase().startsWith("aws:")) {
      throw validationException(`Tag key "${t.Key}" is not allowed: the aws: prefix is reserved for AWS use.`);
    }
  }
  const keys = new Set((tags ?? []).map((t) => t.Key));
  if (keys.size !== (tags ?? []).length) throw validationException("Tags must not contain the same key twice.");
}

const TAGGABLE: readonly ResourceKind[] = ["model", "endpoint-config", "endpoint"];

/** The ARN of an existing taggable resource, or ValidationException. */
function existingResource(ctx: OperationContext, arn: string): string {
  const parsed = parseArn(arn);
  const kind = parsed?.kind as ResourceKind | undefined;
  if (parsed === undefined || kind === undefined || !TAGGABLE.includes(kind)) {
    throw validationException(
      `Resource "${arn}" cannot be tagged by Sluice: only models, endpoint configurations and endpoints exist here.`,
    );
  }
  const record =
    kind === "model"
      ? ctx.store.getModel(parsed.name)
      : kind === "endpoint-config"
        ? ctx.store.getEndpointConfig(parsed.name)
        : ctx.store.getEndpoint(parsed.name);
  if (record === undefined || record.arn !== arn) throw notFound(kind, arn);
  return record.arn;
}

export function addTags(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ ResourceArn: string; Tags: Tag[] }>(AddTagsInput, raw);
  checkTagKeys(input.Tags);
  const arn = existingResource(ctx, input.ResourceArn);
  const existing = new Set(ctx.store.listTags(arn).map((t) => t.Key));
  const added = input.Tags.filter((t) => !existing.has(t.Key)).length;
  if (existing.size + added > MAX_TAGS_PER_RESOURCE) {
    throw validationException(
      `Resource "${arn}" would have ${existing.size + added} tags; at most ${MAX_TAGS_PER_RESOURCE} are allowed.`,
    );
  }
  ctx.store.putTags(arn, input.Tags);
  return { Tags: input.Tags };
}

export function listTags(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ ResourceArn: string; NextToken?: string; MaxResults?: number }>(ListTagsInput, raw);
  const arn = existingResource(ctx, input.ResourceArn);
  const page = paginate({
    operation: "ListTags",
    items: ctx.store.listTagsInOrder(arn),
    sortKey: ({ position }) => [position],
    descending: false,
    maxResults: input.MaxResults ?? 50,
    nextToken: input.NextToken,
  });
  return { Tags: page.items.map(({ tag }) => tag), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
}

export function deleteTags(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ ResourceArn: string; TagKeys: string[] }>(DeleteTagsInput, raw);
  const arn = existingResource(ctx, input.ResourceArn);
  ctx.store.deleteTags(arn, input.TagKeys);
  return {};
}
