// What every operation handler gets: the store, the hosts, the reconciler, and this request.

import type { HostResolver } from "./image.js";
import type { Reconciler } from "./reconciler.js";
import type { SessionDrainer } from "./session-drainer.js";
import type { Store } from "./store.js";

export interface OperationContext {
  store: Store;
  hosts: HostResolver;
  reconciler: Reconciler;
  drainer: SessionDrainer;
  accountId: string;
  /** Signing region of this request; becomes the region of ARNs created by it. */
  region: string;
  requestId: string;
  /** Instances all endpoints together may ask for (ResourceLimitExceeded beyond). */
  maxInstances: number;
  /** Epoch seconds. */
  now(): number;
}

export type OperationHandler = (ctx: OperationContext, input: Record<string, unknown>) => unknown;
