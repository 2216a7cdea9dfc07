import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryLimitBytes } from "./docker-instance-types.js";

const GiB = 1024 ** 3;

test("known instance types get the memory SageMaker gives them", () => {
  const cases: Array<[string, number]> = [
    ["ml.m5.large", 8],
    ["ml.m5.xlarge", 16],
    ["ml.m5.4xlarge", 64],
    ["ml.c5.large", 4],
    ["ml.c5.2xlarge", 16],
    ["ml.c6i.xlarge", 8],
    ["ml.r5.large", 16],
    ["ml.t2.medium", 4],
    ["ml.t2.large", 8],
    ["ml.g5.xlarge", 16],
    ["ml.g4dn.2xlarge", 32],
    ["ml.inf2.xlarge", 16],
  ];
  for (const [type, gib] of cases) assert.equal(memoryLimitBytes(type), gib * GiB, type);
});

test("unknown or absent instance types get no limit, or the default given", () => {
  assert.equal(memoryLimitBytes(undefined), undefined);
  assert.equal(memoryLimitBytes("ml.p3.2xlarge"), undefined);
  assert.equal(memoryLimitBytes("m5.large"), undefined);
  assert.equal(memoryLimitBytes("ml.m5.huge"), undefined);
  assert.equal(memoryLimitBytes("ml.p3.2xlarge", { defaultBytes: 2 * GiB }), 2 * GiB);
  assert.equal(memoryLimitBytes(undefined, { defaultBytes: 2 * GiB }), 2 * GiB);
});

test("overrides win over the rule", () => {
  assert.equal(memoryLimitBytes("ml.m5.large", { overrides: { "ml.m5.large": GiB } }), GiB);
});
