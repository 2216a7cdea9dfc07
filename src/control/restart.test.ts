// What a restart of Sluice on the same data dir does to endpoints caught mid-transition
// (DESIGN §3): Creating resumes, Updating restarts its rollout, Deleting completes, InService
// comes back. Real processes and SIGKILL are covered in reconciler.test.ts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Store } from "./store.js";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness, tempDir, until, untilStatus, type Harness } from "./test-support/harness.js";

async function ok(h: Harness, op: string, body: object): Promise<void> {
  const res = await h.call(op, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

describe("restart", () => {
  it("resumes Creating, restarts an Updating rollout, completes Deleting and brings InService back", async (t) => {
    const dataDir = tempDir(t);
    const first = new FakeHost();
    const a = await openHarness(t, [first], { dataDir });
    await ok(a, "CreateModel", { ModelName: "m", PrimaryContainer: { Image: "sluice/echo" } });
    for (const c of ["c1", "c2"]) {
      await ok(a, "CreateEndpointConfig", {
        EndpointConfigName: c,
        ProductionVariants: [{ VariantName: "v", ModelName: "m", InitialInstanceCount: c === "c1" ? 1 : 2 }],
      });
    }
    for (const e of ["steady", "updating", "deleting"]) await ok(a, "CreateEndpoint", { EndpointName: e, EndpointConfigName: "c1" });
    for (const e of ["steady", "updating", "deleting"]) await untilStatus(a, e, "InService");
    first.hold = true;
    await ok(a, "CreateEndpoint", { EndpointName: "creating", EndpointConfigName: "c1" });
    await ok(a, "UpdateEndpoint", { EndpointName: "updating", EndpointConfigName: "c2" });
    await until(a.plane, () => first.started.length === 6, "the held instances to start");
    assert.equal((await a.call("DescribeEndpoint", { EndpointName: "creating" })).body.EndpointStatus, "Creating");
    assert.equal((await a.call("DescribeEndpoint", { EndpointName: "updating" })).body.EndpointStatus, "Updating");
    await a.plane.close();
    assert.equal(first.running().length, 0);
    // Nothing was replaced meanwhile: held instances are starting, not failing.
    assert.equal(first.started.length, 6);

    // As if the delete had been acknowledged just before the process went down.
    const store = Store.open(dataDir);
    store.setEndpointStatus("deleting", "Deleting", Date.now() / 1000);
    store.close();

    const second = new FakeHost();
    const b = await openHarness(t, [second], { dataDir });
    await untilStatus(b, "creating", "InService");
    const updated = await until(
      b.plane,
      async () => {
        const r = await b.call("DescribeEndpoint", { EndpointName: "updating" });
        return r.body.EndpointStatus === "InService" && r.body.EndpointConfigName === "c2" ? r.body : undefined;
      },
      "the rollout to finish",
    );
    assert.equal(updated.ProductionVariants[0].CurrentInstanceCount, 2);
    await until(b.plane, async () => (await b.call("DescribeEndpoint", { EndpointName: "deleting" })).status === 400, "the delete");
    const steady = await until(
      b.plane,
      () => b.plane.live.getLiveEndpoint("steady")?.variants[0]?.instances.some((i) => i.inRotation),
      "steady to serve again",
    );
    assert.ok(steady);
    assert.equal((await b.call("DescribeEndpoint", { EndpointName: "steady" })).body.EndpointStatus, "InService");
    await b.plane.reconciler.whenIdle();
    // creating: 1, updating: 2 (c2), steady: 1; nothing for the deleted one.
    assert.equal(second.running().length, 4);
  });
});
