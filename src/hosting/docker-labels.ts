// Labels on every container Sluice starts: they tie it to this Sluice (owner), to the run of
// Sluice that started it, and to its endpoint, so a restart can find and remove exactly the
// containers of earlier runs by asking the engine, whatever the store remembers.

import { createHash } from "node:crypto";
import { resolve } from "node:path";

export const LABEL_MANAGED = "io.sluice.managed";
/** Which Sluice installation (e.g. a hash of its data dir): several may share one engine. */
export const LABEL_OWNER = "io.sluice.owner";
/** Which run (start) of that Sluice. */
export const LABEL_RUN_ID = "io.sluice.run-id";
export const LABEL_ENDPOINT = "io.sluice.endpoint";
export const LABEL_VARIANT = "io.sluice.variant";
export const LABEL_INSTANCE_ID = "io.sluice.instance-id";

export interface ContainerIdentity {
  owner: string;
  runId: string;
  endpointName: string;
  variantName: string;
  instanceId: string;
}

/** The caller's labels, then ours (which win: they are what reaping relies on). */
export function containerLabels(id: ContainerIdentity, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    [LABEL_MANAGED]: "true",
    [LABEL_OWNER]: id.owner,
    [LABEL_RUN_ID]: id.runId,
    [LABEL_ENDPOINT]: id.endpointName,
    [LABEL_VARIANT]: id.variantName,
    [LABEL_INSTANCE_ID]: id.instanceId,
  };
}

/** Engine-side filter for every container of one owner, any run. */
export function ownerFilter(owner: string): { label: string[] } {
  return { label: [`${LABEL_MANAGED}=true`, `${LABEL_OWNER}=${owner}`] };
}

/**
 * The owner label for the Sluice whose state lives in `dataDir`: stable across its restarts,
 * different for another data dir on the same machine and engine.
 */
export function ownerForDataDir(dataDir: string): string {
  return createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
}
