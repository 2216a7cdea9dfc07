// Shared by the control-plane tests: a ControlPlane on a temporary data dir with short timeouts,
// a one-line way to call an operation, and a wait that wakes on live-state changes (with a
// generous cap only against hangs).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Host } from "../../hosting/host.js";
import { ControlPlane, type ControlPlaneOptions } from "../control-plane.js";
import { hostResolver } from "../image.js";

export interface Harness {
  plane: ControlPlane;
  dataDir: string;
  call(operation: string, body?: unknown, region?: string): Promise<{ status: number; body: any }>;
}

/** Short intervals: tests wait for events, and none asserts a duration. */
export const FAST: Partial<ControlPlaneOptions> = {
  startupPollIntervalMs: 20,
  pingTimeoutMs: 2000,
  probeIntervalMs: 50,
  unhealthyThreshold: 2,
  stopGraceMs: 5000,
  drainTimeoutMs: 5000,
  restartBackoffBaseMs: 50,
  restartBackoffMaxMs: 200,
  instanceStartTimeoutMs: 30_000,
};

export function tempDir(t: TestContext, prefix = "sluice-control-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function openHarness(
  t: TestContext,
  hosts: Host[],
  options: Partial<ControlPlaneOptions> & { dataDir?: string } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? tempDir(t);
  const plane = await ControlPlane.open({ ...FAST, ...options, dataDir, hosts: hostResolver(hosts) });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await plane.close();
  };
  t.after(close);
  let n = 0;
  return {
    plane,
    dataDir,
    call: async (operation, body = {}, region) => {
      const target = operation.includes(".") ? operation : `SageMaker.${operation}`;
      const res = await plane.handle({
        target,
        body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
        region,
        requestId: `test-${++n}`,
      });
      // Round-trip through JSON, as the wire does.
      return { status: res.status, body: JSON.parse(JSON.stringify(res.body)) };
    },
  };
}

/** Resolves with `check()`'s first truthy result, re-checking on every live-state change. */
export async function until<T>(
  plane: ControlPlane,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what = "condition",
  capMs = 60_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let busy = false;
    let again = false;
    const cleanup = (): void => {
      off();
      clearInterval(fallback);
      clearTimeout(cap);
    };
    const test = async (): Promise<void> => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          const value = await check();
          if (value) {
            cleanup();
            resolve(value);
            return;
          }
        } while (again);
      } catch (err) {
        cleanup();
        reject(err);
      } finally {
        busy = false;
      }
    };
    const off = plane.live.onChange(() => void test());
    // Changes the live state does not announce (a store write by the API) are caught by this.
    const fallback = setInterval(() => void test(), 25);
    const cap = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}`));
    }, capMs);
    void test();
  });
}

export async function describeStatus(h: Harness, name: string): Promise<string | undefined> {
  const res = await h.call("DescribeEndpoint", { EndpointName: name });
  return res.status === 200 ? res.body.EndpointStatus : undefined;
}

export async function untilStatus(h: Harness, name: string, status: string): Promise<any> {
  return until(
    h.plane,
    async () => {
      const res = await h.call("DescribeEndpoint", { EndpointName: name });
      return res.status === 200 && res.body.EndpointStatus === status ? res.body : undefined;
    },
    `endpoint ${name} to be ${status}`,
  );
}
