import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { Registry } from "prom-client";
import type { LiveEndpoint, LiveInstanceState, LiveStateReader } from "../control/index.js";
import type { InstanceExit } from "../hosting/host.js";
import { registerInstanceMetrics } from "./instance-metrics.js";

/** A live state holding one endpoint whose instances the test moves through their states. */
function fakeLive() {
  let instances: { id: string; state: LiveInstanceState }[] = [];
  const exits = new Map<string, InstanceExit>();
  const events = new EventEmitter();
  const endpoint = (): LiveEndpoint => ({
    name: "ep",
    arn: "arn",
    status: "InService",
    variants: [
      {
        variantName: "v",
        currentWeight: 1,
        desiredInstanceCount: 2,
        bidiCapable: true,
        instances: instances.map((i) => ({
          instanceId: i.id,
          variantName: "v",
          host: "127.0.0.1",
          port: 1,
          logFile: "/dev/null",
          startedAt: new Date(0),
          state: i.state,
          inRotation: i.state === "Healthy",
          restarts: 0,
        })),
      },
    ],
  });
  const live = {
    getLiveEndpoint: () => endpoint(),
    listLiveEndpoints: () => [endpoint()],
    instanceExit: (id: string) => exits.get(id),
    onChange: (listener: (name: string) => void) => {
      events.on("change", listener);
      return () => events.off("change", listener);
    },
  } as unknown as LiveStateReader;
  return {
    live,
    set(next: { id: string; state: LiveInstanceState }[]) {
      instances = next;
      events.emit("change", "ep");
    },
    exit(id: string) {
      exits.set(id, { code: null, signal: "SIGKILL" });
      instances = instances.filter((i) => i.id !== id);
      events.emit("change", "ep");
    },
  };
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

test("an instance that dies while running is a restart; one retired on purpose, or still alive, is not", async () => {
  const f = fakeLive();
  const registry = new Registry();
  const stop = registerInstanceMetrics(registry, f.live);
  f.set([{ id: "a", state: "Healthy" }, { id: "b", state: "Healthy" }, { id: "c", state: "Starting" }]);
  assert.equal(await value(registry, "sluice_instances", { state: "Healthy" }), 2);
  assert.equal(await value(registry, "sluice_instances_desired"), 2);

  f.exit("a"); // crashed while Healthy
  assert.equal(await value(registry, "sluice_instance_restarts_total", { endpoint: "ep", variant: "v" }), 1);
  f.set([{ id: "b", state: "Draining" }, { id: "c", state: "Unhealthy" }]);
  f.exit("b"); // retired: Draining before it went
  assert.equal(await value(registry, "sluice_instance_restarts_total"), 1);
  f.set([]); // c left the serving deployment alive (a rollout switched): no exit, no restart
  assert.equal(await value(registry, "sluice_instance_restarts_total"), 1);
  f.set([{ id: "d", state: "Starting" }]);
  f.exit("d"); // died while starting: a crash loop counts
  assert.equal(await value(registry, "sluice_instance_restarts_total"), 2);
  stop();
  f.set([{ id: "e", state: "Healthy" }]);
  f.exit("e");
  assert.equal(await value(registry, "sluice_instance_restarts_total"), 2, "no counting after unsubscribe");
});
