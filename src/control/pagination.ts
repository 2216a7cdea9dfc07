// List operations: filter, sort, then page with an opaque NextToken. The token is a cursor (the
// last item's sort key), not an offset, so creating or deleting resources between pages neither
// repeats nor skips the others. It names the operation it came from, so a token handed to the
// wrong List* call is refused instead of silently misread.

import { parseTimestamp, validationException } from "./validate.js";

/** SageMaker's List* defaults: 10 results, newest first. */
export const DEFAULT_MAX_RESULTS = 10;

export type SortValue = string | number;

export interface PageRequest<T> {
  operation: string;
  items: readonly T[];
  /** Sort key of an item; ties are broken by the following elements (end with a unique one). */
  sortKey: (item: T) => SortValue[];
  descending: boolean;
  maxResults: number;
  nextToken?: string;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

function compareKeys(a: readonly SortValue[], b: readonly SortValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

function encodeToken(operation: string, key: SortValue[]): string {
  return Buffer.from(JSON.stringify({ o: operation, k: key })).toString("base64url");
}

function decodeToken(operation: string, token: string): SortValue[] {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown; k?: unknown };
    if (
      parsed.o === operation &&
      Array.isArray(parsed.k) &&
      parsed.k.every((v) => typeof v === "string" || typeof v === "number")
    ) {
      return parsed.k as SortValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw validationException(`Invalid NextToken: it was not returned by a previous ${operation} call.`);
}

export function paginate<T>(req: PageRequest<T>): Page<T> {
  const sign = req.descending ? -1 : 1;
  const sorted = [...req.items].sort((a, b) => sign * compareKeys(req.sortKey(a), req.sortKey(b)));
  let start = 0;
  if (req.nextToken !== undefined && req.nextToken !== "") {
    const cursor = decodeToken(req.operation, req.nextToken);
    start = sorted.findIndex((item) => sign * compareKeys(req.sortKey(item), cursor) > 0);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + req.maxResults);
  const more = start + req.maxResults < sorted.length;
  const last = items[items.length - 1];
  return more && last !== undefined ? { items, nextToken: encodeToken(req.operation, req.sortKey(last)) } : { items };
}

/** `NameContains`: SageMaker matches case-insensitively. */
export function nameContains(name: string, fragment: string | undefined): boolean {
  return fragment === undefined || name.toLowerCase().includes(fragment.toLowerCase());
}

/** `…TimeBefore` / `…TimeAfter` are strict bounds, in epoch seconds. */
export function within(time: number, after: number | undefined, before: number | undefined): boolean {
  return (after === undefined || time > after) && (before === undefined || time < before);
}

/** The request members ListModels and ListEndpointConfigs share. */
export interface NameAndCreationListRequest {
  SortBy?: "Name" | "CreationTime";
  SortOrder?: "Ascending" | "Descending";
  NextToken?: string;
  MaxResults?: number;
  NameContains?: string;
  CreationTimeBefore?: unknown;
  CreationTimeAfter?: unknown;
}

/** ListModels and ListEndpointConfigs: filter by name and creation time, sort by either, page. */
export function listByNameAndCreation<T extends { name: string; creationTime: number }>(
  operation: string,
  items: readonly T[],
  input: NameAndCreationListRequest,
): Page<T> {
  const after = parseTimestamp(input.CreationTimeAfter);
  const before = parseTimestamp(input.CreationTimeBefore);
  const byName = input.SortBy === "Name";
  return paginate({
    operation,
    items: items.filter((item) => nameContains(item.name, input.NameContains) && within(item.creationTime, after, before)),
    sortKey: (item) => (byName ? [item.name.toLowerCase(), item.name] : [item.creationTime, item.name.toLowerCase()]),
    descending: (input.SortOrder ?? "Descending") === "Descending",
    maxResults: input.MaxResults ?? DEFAULT_MAX_RESULTS,
    nextToken: input.NextToken,
  });
}
