import { test } from "node:test";
import assert from "node:assert/strict";
import { AwsError } from "../protocol/aws-error.js";
import { SessionRouter } from "./session-router.js";
import { seededRandom } from "./variant-picker.js";
import type { RoutableEndpoint } from "./types.js";

function endpoint(weights: Record<string, number>, instancesPerVariant = 2, status = "InService"): RoutableEndpoint {
  return {
    endpointName: "ep",
    endpointArn: "arn:aws:sagemaker:us-east-1:000000000000:endpoint/ep",
    status,
    variants: Object.entries(weights).map(([name, w]) => ({
      variantName: name,
      currentWeight: w,
      bidiCapable: true,
      instances: Array.from({ length: instancesPerVariant }, (_, i) => ({
        instanceId: `${name}-${i}`,
        host: "127.0.0.1",
        port: 1000 + i,
        logFile: "/dev/null",
        inRotation: true,
      })),
    })),
  };
}

function router(ep: RoutableEndpoint | undefined, overrides: Partial<ConstructorParameters<typeof SessionRouter>[0]> = {}) {
  let now = 0;
  const r = new SessionRouter({
    lookup: (name) => (ep && name === ep.endpointName ? ep : undefined),
    random: seededRandom(42),
    accountId: "000000000000",
    maxSessions: 10_000,
    maxSessionsPerInstance: 1000,
    quarantineMs: 10_000,
    replaceAfterFailures: 3,
    now: () => now,
    ...overrides,
  });
  return { r, advance: (ms: number) => (now += ms) };
}

function expectError(fn: () => unknown, type: string, status: number): AwsError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AwsError, String(err));
    assert.equal(err.type, type);
    assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${type}`);
}

test("seeded weights 1:3 split 400 sessions 100±20 / 300±20, weight 0 gets none", () => {
  const ep = endpoint({ a: 1, b: 3, zero: 0 });
  const { r } = router(ep);
  const counts: Record<string, number> = { a: 0, b: 0, zero: 0 };
  for (let i = 0; i < 400; i++) counts[r.resolve("ep").variant.variantName]++;
  assert.ok(Math.abs(counts.a - 100) <= 20, `a=${counts.a}`);
  assert.ok(Math.abs(counts.b - 300) <= 20, `b=${counts.b}`);
  assert.equal(counts.zero, 0);
});

test("the target variant overrides weights, including weight 0", () => {
  const { r } = router(endpoint({ a: 1, zero: 0 }));
  for (let i = 0; i < 20; i++) assert.equal(r.resolve("ep", "zero").variant.variantName, "zero");
});

test("unknown endpoint, unknown variant and non-serving statuses are InputValidationError", () => {
  const { r } = router(endpoint({ a: 1 }));
  const e = expectError(() => r.resolve("nope"), "InputValidationError", 400);
  assert.equal(e.message, "Endpoint nope of account 000000000000 not found.");
  expectError(() => r.resolve("ep", "b"), "InputValidationError", 400);
  for (const status of ["Creating", "Deleting", "Failed", "OutOfService"]) {
    const { r: r2 } = router(endpoint({ a: 1 }, 1, status));
    expectError(() => r2.resolve("ep"), "InputValidationError", 400);
  }
  for (const status of ["Updating", "SystemUpdating", "RollingBack"]) {
    const { r: r2 } = router(endpoint({ a: 1 }, 1, status));
    assert.equal(r2.resolve("ep").variant.variantName, "a");
  }
});

test("sessions go to the instance with the fewest, the cap gives 503 and a release admits again", () => {
  const ep = endpoint({ a: 1 }, 2);
  const { r } = router(ep, { maxSessionsPerInstance: 2 });
  const v = ep.variants[0];
  const leases = [r.acquire(ep, v), r.acquire(ep, v), r.acquire(ep, v), r.acquire(ep, v)];
  assert.deepEqual(leases.map((l) => l.instance.instanceId).sort(), ["a-0", "a-0", "a-1", "a-1"]);
  expectError(() => r.acquire(ep, v), "ServiceUnavailableError", 503);
  leases[1].release();
  leases[1].release();
  assert.equal(r.acquire(ep, v).instance.instanceId, leases[1].instance.instanceId);
  assert.equal(r.totalSessions(), 4);
});

test("a full variant never spills into another", () => {
  const ep = endpoint({ a: 1, b: 1 }, 1);
  const { r } = router(ep, { maxSessionsPerInstance: 1 });
  r.acquire(ep, ep.variants[0]);
  expectError(() => r.acquire(ep, ep.variants[0]), "ServiceUnavailableError", 503);
});

test("a failed upgrade quarantines the instance for a while; three in a row ask for replacement", () => {
  const ep = endpoint({ a: 1 }, 2);
  const replaced: string[] = [];
  const { r, advance } = router(ep, { onReplaceInstance: (id) => replaced.push(id) });
  const v = ep.variants[0];
  r.reportDialFailure("a-0");
  for (let i = 0; i < 5; i++) assert.equal(r.acquire(ep, v).instance.instanceId, "a-1");
  advance(10_000);
  assert.equal(r.acquire(ep, v).instance.instanceId, "a-0");
  r.reportDialFailure("a-0");
  r.reportDialFailure("a-0");
  assert.deepEqual(replaced, ["a-0"]);
});

test("no instance in rotation is 503, and the total session cap is 503", () => {
  const ep = endpoint({ a: 1 }, 1);
  ep.variants[0].instances[0].inRotation = false;
  const { r } = router(ep);
  expectError(() => r.acquire(ep, ep.variants[0]), "ServiceUnavailableError", 503);
  const ep2 = endpoint({ a: 1 }, 1);
  const { r: r2 } = router(ep2, { maxSessions: 1 });
  r2.acquire(ep2, ep2.variants[0]);
  expectError(() => r2.acquire(ep2, ep2.variants[0]), "ServiceUnavailableError", 503);
});
