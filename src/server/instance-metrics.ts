// Instance metrics from the control plane's live state: how many instances are in each state,
// and how many went away without being retired (each of those is replaced, with backoff when
// they keep failing). Read from the live state's change events, so nothing in control/ knows
// about Prometheus.
import { Counter, Gauge, type Registry } from "prom-client";
import type { LiveEndpoint, LiveStateReader } from "../control/index.js";

/** States in which an instance is being retired on purpose: its exit is not a failure. */
const RETIRING = new Set(["Draining", "Stopping"]);

export function registerInstanceMetrics(registry: Registry, live: LiveStateReader): () => void {
  const registers = [registry];
  new Gauge({
    name: "sluice_instances",
    help: "Instances of each serving variant by state (Starting, Healthy, Unhealthy, Draining, Stopping)",
    labelNames: ["endpoint", "variant", "state"],
    registers,
    collect() {
      this.reset();
      for (const e of live.listLiveEndpoints()) {
        for (const v of e.variants) for (const i of v.instances) this.inc({ endpoint: e.name, variant: v.variantName, state: i.state });
      }
    },
  });
  new Gauge({
    name: "sluice_instances_desired",
    help: "Desired instance count of each serving variant",
    labelNames: ["endpoint", "variant"],
    registers,
    collect() {
      this.reset();
      for (const e of live.listLiveEndpoints()) for (const v of e.variants) this.set({ endpoint: e.name, variant: v.variantName }, v.desiredInstanceCount);
    },
  });
  const restarts = new Counter({
    name: "sluice_instance_restarts_total",
    help: "Instances that exited or were killed by the health prober without being retired; each is replaced",
    labelNames: ["endpoint", "variant"],
    registers,
  });

  // The last state seen of every instance, to tell a failure (gone while Starting, Healthy or
  // Unhealthy) from a retirement (gone after Draining or Stopping).
  const lastSeen = new Map<string, Map<string, { variant: string; state: string }>>();
  const observe = (name: string): void => {
    const e: LiveEndpoint | undefined = live.getLiveEndpoint(name);
    const key = name.toLowerCase();
    const before = lastSeen.get(key) ?? new Map<string, { variant: string; state: string }>();
    const now = new Map<string, { variant: string; state: string }>();
    for (const v of e?.variants ?? []) for (const i of v.instances) now.set(i.instanceId, { variant: v.variantName, state: i.state });
    for (const [id, seen] of before) {
      if (now.has(id) || RETIRING.has(seen.state)) continue;
      // Gone from the serving deployment without being retired: a restart if it died.
      if (live.instanceExit(id) !== undefined) restarts.inc({ endpoint: e?.name ?? name, variant: seen.variant });
    }
    if (e === undefined) lastSeen.delete(key);
    else lastSeen.set(key, now);
  };
  return live.onChange(observe);
}
