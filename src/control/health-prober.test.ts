import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ControlPlane } from "./control-plane.js";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness, until, untilStatus, type Harness } from "./test-support/harness.js";

async function deployed(h: Harness, count = 1): Promise<void> {
  await h.call("CreateModel", { ModelName: "m", PrimaryContainer: { Image: "sluice/echo" } });
  await h.call("CreateEndpointConfig", {
    EndpointConfigName: "c",
    ProductionVariants: [{ VariantName: "v", ModelName: "m", InitialInstanceCount: count }],
  });
  await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c" });
  await untilStatus(h, "ep", "InService");
}

const instancesOf = (plane: ControlPlane) => plane.live.getLiveEndpoint("ep")?.variants[0]?.instances ?? [];

describe("health prober", () => {
  it("takes an instance that fails probes out of rotation, kills it and replaces it", async (t) => {
    const host = new FakeHost();
    const h = await openHarness(t, [host], { unhealthyThreshold: 3 });
    await deployed(h);
    const [sick] = host.running();
    sick!.unhealthy = true;
    await until(h.plane, () => instancesOf(h.plane).find((i) => i.instanceId === sick!.instanceId && !i.inRotation), "out of rotation");
    const replacement = await until(
      h.plane,
      () => instancesOf(h.plane).find((i) => i.instanceId !== sick!.instanceId && i.inRotation),
      "a replacement",
    );
    assert.equal(sick!.hasExited, true);
    assert.equal(sick!.stopCalls, 0, "an instance that no longer answers is killed, not stopped with grace");
    assert.equal(replacement.restarts, 1);
  });

  it("brings an instance back into rotation when it answers again before the threshold", async (t) => {
    const host = new FakeHost();
    const h = await openHarness(t, [host], { unhealthyThreshold: 1000 });
    await deployed(h);
    const [flaky] = host.running();
    flaky!.unhealthy = true;
    await until(h.plane, () => instancesOf(h.plane).find((i) => i.state === "Unhealthy"), "unhealthy");
    flaky!.unhealthy = false;
    await until(h.plane, () => instancesOf(h.plane).find((i) => i.state === "Healthy" && i.inRotation), "healthy again");
    assert.equal(flaky!.hasExited, false);
  });

  it("counts routing's reports like failed probes", async (t) => {
    const host = new FakeHost();
    // Probes alone would never kill it: they all succeed.
    const h = await openHarness(t, [host], { unhealthyThreshold: 2, probeIntervalMs: 60_000 });
    await deployed(h);
    const [target] = host.running();
    h.plane.live.reportInstanceFailure(target!.instanceId, "WebSocket upgrade refused");
    assert.equal(instancesOf(h.plane)[0]?.inRotation, false);
    h.plane.live.reportInstanceFailure(target!.instanceId, "WebSocket upgrade refused");
    await until(h.plane, () => instancesOf(h.plane).find((i) => i.instanceId !== target!.instanceId && i.inRotation), "a replacement");
    assert.equal(target!.hasExited, true);
  });

  it("backs off replacing a model that keeps crashing and says why in VariantStatus", async (t) => {
    const host = new FakeHost();
    const h = await openHarness(t, [host], { restartBackoffBaseMs: 60_000, restartBackoffMaxMs: 60_000 });
    await deployed(h);
    const [first] = host.running();
    first!.exit({ code: 137, signal: null });
    // The first replacement is immediate (crash 1: no wait)…
    await until(h.plane, () => host.running().length === 1 && host.running()[0] !== first, "the first replacement");
    const [second] = host.running();
    second!.exit({ code: 137, signal: null });
    // …the next waits out the backoff, and DescribeEndpoint says what is going on.
    const d = await until(
      h.plane,
      async () => {
        const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
        const status = r.body.ProductionVariants[0].VariantStatus?.[0];
        return status?.StatusMessage?.includes("code 137") ? r.body : undefined;
      },
      "VariantStatus to report the crash",
    );
    assert.equal(d.EndpointStatus, "InService");
    assert.equal(d.ProductionVariants[0].CurrentInstanceCount, 0);
    assert.equal(d.ProductionVariants[0].VariantStatus[0].Status, "Updating");
    assert.match(d.ProductionVariants[0].VariantStatus[0].StatusMessage, /Replacing instances, 0 of 1 healthy: instance .* exited \(code 137\)/);
    assert.equal(host.started.length, 2, "no replacement before the backoff has passed");
  });
});
