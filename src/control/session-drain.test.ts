import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SessionDrainer } from "./session-drainer.js";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness, until, untilStatus } from "./test-support/harness.js";

/** Records each drain with whether its instances were still in rotation at that moment. */
function recordingDrainer(inRotation: (id: string) => boolean | undefined) {
  const calls: { ids: string[]; timeoutMs: number; stillInRotation: boolean[] }[] = [];
  const drainer: SessionDrainer = {
    activeSessions: (id) => (id.length > 0 ? 7 : 0),
    drain: async (ids, timeoutMs) => {
      calls.push({ ids: [...ids], timeoutMs, stillInRotation: ids.map((id) => inRotation(id) === true) });
    },
  };
  return { calls, drainer };
}

describe("session draining", () => {
  it("drains the old instances, out of rotation, before stopping them on update, scale-in and delete", async (t) => {
    const host = new FakeHost();
    let lookup: (id: string) => boolean | undefined = () => undefined;
    const { calls, drainer } = recordingDrainer((id) => lookup(id));
    const h = await openHarness(t, [host], { drainer, drainTimeoutMs: 1234 });
    lookup = (id) =>
      h.plane.live
        .getLiveEndpoint("ep")
        ?.variants.flatMap((v) => v.instances)
        .find((i) => i.instanceId === id)?.inRotation;
    await h.call("CreateModel", { ModelName: "m", PrimaryContainer: { Image: "sluice/echo" } });
    for (const [c, n] of [["c1", 1], ["c2", 2]] as const) {
      await h.call("CreateEndpointConfig", {
        EndpointConfigName: c,
        ProductionVariants: [{ VariantName: "v", ModelName: "m", InitialInstanceCount: n }],
      });
    }
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c1" });
    await untilStatus(h, "ep", "InService");
    const [old] = host.running();

    await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c2" });
    await until(h.plane, () => old!.hasExited, "the old instance to stop");
    assert.deepEqual(calls[0], { ids: [old!.instanceId], timeoutMs: 1234, stillInRotation: [false] });

    await untilStatus(h, "ep", "InService");
    await h.call("UpdateEndpointWeightsAndCapacities", {
      EndpointName: "ep",
      DesiredWeightsAndCapacities: [{ VariantName: "v", DesiredInstanceCount: 1 }],
    });
    await until(h.plane, () => host.running().length === 1, "scale-in");
    assert.equal(calls[1]?.ids.length, 1);
    assert.deepEqual(calls[1]?.stillInRotation, [false]);

    const listed = await h.call("Sluice.ListInstances", {});
    assert.equal(listed.body.Instances[0].ActiveSessions, 7);

    const [last] = host.running();
    await h.call("DeleteEndpoint", { EndpointName: "ep" });
    await until(h.plane, async () => (await h.call("DescribeEndpoint", { EndpointName: "ep" })).status === 400, "the delete");
    assert.deepEqual(calls[2]?.ids, [last!.instanceId]);
    assert.equal(last!.stopCalls, 1);
  });
});
