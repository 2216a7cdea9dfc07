// The read side the runtime and routing use (DESIGN §2 step 3): which endpoints exist, their
// status, their variants' weights, and which instances are in rotation. It lives in memory and is
// cheap to read on every new session; the reconciler is its only writer.

import type { InstanceExit } from "../hosting/host.js";
import type { EndpointStatus } from "./records.js";

export type LiveInstanceState =
  /** Started, not yet answering /ping. */
  | "Starting"
  /** Answering /ping. In rotation if it belongs to the serving deployment. */
  | "Healthy"
  /** Missed its last probe(s): out of rotation; replaced after `unhealthyThreshold` misses. */
  | "Unhealthy"
  /** Out of rotation, its sessions finishing before it is stopped. */
  | "Draining"
  /** SIGTERM sent. */
  | "Stopping";

export interface LiveInstance {
  instanceId: string;
  variantName: string;
  /** Always loopback. */
  host: string;
  port: number;
  pid?: number;
  containerId?: string;
  logFile: string;
  startedAt: Date;
  state: LiveInstanceState;
  /** Whether routing may open new sessions on it. */
  inRotation: boolean;
  /** How many instances this one's place in the variant has gone through before it. */
  restarts: number;
}

export interface LiveVariant {
  variantName: string;
  currentWeight: number;
  desiredInstanceCount: number;
  /** The image carries `com.amazonaws.sagemaker.capabilities.bidirectional-streaming=true`. */
  bidiCapable: boolean;
  /** Instances of the serving deployment, in rotation or not. */
  instances: LiveInstance[];
}

export interface LiveEndpoint {
  name: string;
  arn: string;
  status: EndpointStatus;
  /** The serving deployment's variants; empty until the endpoint has first been InService. */
  variants: LiveVariant[];
}

export interface LiveStateReader {
  /** A snapshot (do not mutate); names match case-insensitively, like the API's. */
  getLiveEndpoint(name: string): LiveEndpoint | undefined;
  listLiveEndpoints(): LiveEndpoint[];
  /** Called with the endpoint's name whenever its live state changes; returns an unsubscribe. */
  onChange(listener: (endpointName: string) => void): () => void;
  /**
   * Routing saw this instance fail (e.g. refused WebSocket upgrades three times in a row): it
   * leaves rotation at once and is replaced (SIGTERM with grace, since it may still answer).
   */
  reportInstanceFailure(instanceId: string, reason: string): void;
  /**
   * How a recent instance's process ended, once its exit is known (an `onChange` follows it);
   * undefined while it runs or after it has been forgotten. The runtime names it in StreamBroken.
   */
  instanceExit(instanceId: string): InstanceExit | undefined;
}
