// A small shape checker for AWS JSON 1.1 inputs. SageMaker (a Coral service) reports constraint
// violations as one ValidationException listing every failed member, with the member path in
// lowerCamelCase ("productionVariants.1.member.variantName") and the model's own wording
// ("Member must satisfy regular expression pattern: …"). Clients and users grep for those
// messages, so we reproduce the format rather than invent one. A value of the wrong JSON type is
// a SerializationException, as Coral answers when it cannot even deserialize the input.

import { AwsError } from "../protocol/aws-error.js";

export type Shape =
  | { kind: "string"; min?: number; max?: number; pattern?: string; enum?: readonly string[] }
  | { kind: "integer"; min?: number; max?: number }
  | { kind: "float"; min?: number; max?: number }
  | { kind: "boolean" }
  | { kind: "timestamp" }
  | { kind: "list"; member: Shape; min?: number; max?: number }
  | { kind: "map"; key: Shape; value: Shape; min?: number; max?: number }
  | { kind: "structure"; members: Record<string, Shape>; required?: readonly string[] };

// Constructors keep the shape tables in shapes.ts readable.
export const str = (c: { min?: number; max?: number; pattern?: string } = {}): Shape => ({ kind: "string", ...c });
export const enumOf = (values: readonly string[]): Shape => ({ kind: "string", enum: values });
export const int = (c: { min?: number; max?: number } = {}): Shape => ({ kind: "integer", ...c });
export const float = (c: { min?: number; max?: number } = {}): Shape => ({ kind: "float", ...c });
export const bool: Shape = { kind: "boolean" };
export const timestamp: Shape = { kind: "timestamp" };
export const list = (member: Shape, c: { min?: number; max?: number } = {}): Shape => ({ kind: "list", member, ...c });
export const map = (key: Shape, value: Shape, c: { min?: number; max?: number } = {}): Shape => ({
  kind: "map",
  key,
  value,
  ...c,
});
export const struct = (members: Record<string, Shape>, required: readonly string[] = []): Shape => ({
  kind: "structure",
  members,
  required,
});

const regexCache = new Map<string, RegExp>();

/** Coral matches the whole value (Java's `matches()`), so patterns are anchored here. */
function fullMatch(pattern: string, value: string): boolean {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^(?:${pattern})$`, "u");
    regexCache.set(pattern, re);
  }
  return re.test(value);
}

function camel(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

function render(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  // Keep messages readable when someone sends a 1 MiB string.
  return text.length > 256 ? `${text.slice(0, 256)}…` : text;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

interface Context {
  errors: string[];
  serialization?: string;
}

function fail(ctx: Context, value: unknown, path: string, constraint: string): void {
  const shown = value === null || value === undefined ? "null" : `'${render(value)}'`;
  ctx.errors.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
}

function typeError(ctx: Context, value: unknown, path: string, expected: string): void {
  ctx.serialization ??= `Value ${render(value)} at '${path}' is ${jsonType(value)}; expected ${expected}`;
}

function checkLength(ctx: Context, value: unknown, length: number, path: string, min?: number, max?: number): void {
  if (max !== undefined && length > max) fail(ctx, value, path, `Member must have length less than or equal to ${max}`);
  if (min !== undefined && length < min) fail(ctx, value, path, `Member must have length greater than or equal to ${min}`);
}

function checkValue(ctx: Context, value: number, path: string, min?: number, max?: number): void {
  if (max !== undefined && value > max) fail(ctx, value, path, `Member must have value less than or equal to ${max}`);
  if (min !== undefined && value < min) fail(ctx, value, path, `Member must have value greater than or equal to ${min}`);
}

function walk(ctx: Context, shape: Shape, value: unknown, path: string): void {
  switch (shape.kind) {
    case "string": {
      if (typeof value !== "string") return typeError(ctx, value, path, "a string");
      if (shape.enum !== undefined) {
        if (!shape.enum.includes(value)) fail(ctx, value, path, `Member must satisfy enum value set: [${shape.enum.join(", ")}]`);
        return;
      }
      checkLength(ctx, value, value.length, path, shape.min, shape.max);
      if (shape.pattern !== undefined && !fullMatch(shape.pattern, value)) {
        fail(ctx, value, path, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      return;
    }
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return typeError(ctx, value, path, "an integer");
      return checkValue(ctx, value, path, shape.min, shape.max);
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) return typeError(ctx, value, path, "a number");
      return checkValue(ctx, value, path, shape.min, shape.max);
    case "boolean":
      if (typeof value !== "boolean") typeError(ctx, value, path, "a boolean");
      return;
    case "timestamp":
      if (parseTimestamp(value) === undefined) typeError(ctx, value, path, "a timestamp (epoch seconds)");
      return;
    case "list": {
      if (!Array.isArray(value)) return typeError(ctx, value, path, "an array");
      checkLength(ctx, value, value.length, path, shape.min, shape.max);
      value.forEach((item, i) => {
        const at = `${path}.${i + 1}.member`;
        if (item === null || item === undefined) fail(ctx, null, at, "Member must not be null");
        else walk(ctx, shape.member, item, at);
      });
      return;
    }
    case "map": {
      if (!isPlainObject(value)) return typeError(ctx, value, path, "an object");
      const entries = Object.entries(value);
      checkLength(ctx, value, entries.length, path, shape.min, shape.max);
      for (const [k, v] of entries) {
        walk(ctx, shape.key, k, `${path}.key`);
        if (v === null || v === undefined) fail(ctx, null, `${path}.${k}`, "Member must not be null");
        else walk(ctx, shape.value, v, `${path}.${k}`);
      }
      return;
    }
    case "structure": {
      if (!isPlainObject(value)) return typeError(ctx, value, path, "an object");
      for (const [name, member] of Object.entries(shape.members)) {
        const at = path === "" ? camel(name) : `${path}.${camel(name)}`;
        const v = value[name];
        if (v === null || v === undefined) {
          if (shape.required?.includes(name)) fail(ctx, null, at, "Member must not be null");
          continue;
        }
        walk(ctx, member, v, at);
      }
      // Members the model does not know are ignored, as Coral does: a newer SDK may send them.
      return;
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** AWS JSON 1.1 timestamps are epoch seconds (fractional allowed); ISO strings are accepted too. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return asNumber;
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  return undefined;
}

/** Throws SerializationException or ValidationException; returns the input typed as T. */
export function validateInput<T>(shape: Shape, input: unknown): T {
  const ctx: Context = { errors: [] };
  walk(ctx, shape, input, "");
  if (ctx.serialization !== undefined) throw new AwsError("SerializationException", 400, ctx.serialization);
  if (ctx.errors.length > 0) throw validationErrors(ctx.errors);
  return input as T;
}

export function validationErrors(errors: string[]): AwsError {
  const n = errors.length;
  return new AwsError(
    "ValidationException",
    400,
    `${n} validation error${n === 1 ? "" : "s"} detected: ${errors.join("; ")}`,
  );
}

export function validationException(message: string): AwsError {
  return new AwsError("ValidationException", 400, message);
}
