// endpoint → variant → instance for each new session (DESIGN §2 step 3), and the session
// accounting that caps and draining rely on. Pure bookkeeping: no I/O.
import { AwsError } from "../protocol/aws-error.js";
import type { EndpointLookup, RoutableEndpoint, RoutableInstance, RoutableVariant } from "./types.js";
import { pickVariantByWeight, type RandomSource } from "./variant-picker.js";

/** Statuses in which an endpoint takes new sessions (DESIGN §2 error table). */
const SERVING = new Set(["InService", "Updating", "SystemUpdating", "RollingBack"]);

export interface SessionRouterOptions {
  lookup: EndpointLookup;
  random: RandomSource;
  accountId: string;
  maxSessions: number;
  maxSessionsPerInstance: number;
  /** How long an instance stays out of rotation after a failed WebSocket upgrade. */
  quarantineMs: number;
  /** Consecutive failed upgrades after which the instance is reported for replacement. */
  replaceAfterFailures: number;
  onReplaceInstance?: (instanceId: string) => void;
  now?: () => number;
}

export interface Route {
  endpoint: RoutableEndpoint;
  variant: RoutableVariant;
  instance: RoutableInstance;
}

/** A reserved slot on an instance; release it exactly once when the session ends. */
export interface SessionLease extends Route {
  release(): void;
}

export class SessionRouter {
  private readonly active = new Map<string, number>();
  private total = 0;
  private readonly quarantinedUntil = new Map<string, number>();
  private readonly dialFailures = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: SessionRouterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Resolves the endpoint and variant, or throws the pre-200 AwsError the client should get. */
  resolve(endpointName: string, targetVariant?: string): { endpoint: RoutableEndpoint; variant: RoutableVariant } {
    const endpoint = this.options.lookup(endpointName);
    if (!endpoint) {
      throw new AwsError("InputValidationError", 400, `Endpoint ${endpointName} of account ${this.options.accountId} not found.`);
    }
    if (!SERVING.has(endpoint.status)) {
      throw new AwsError(
        "InputValidationError",
        400,
        `Endpoint ${endpointName} of account ${this.options.accountId} is not in service (status ${endpoint.status}).`,
      );
    }
    let variant: RoutableVariant | undefined;
    if (targetVariant !== undefined) {
      variant = endpoint.variants.find((v) => v.variantName === targetVariant);
      if (!variant) {
        throw new AwsError(
          "InputValidationError",
          400,
          `Variant ${targetVariant} not found for endpoint ${endpointName} of account ${this.options.accountId}.`,
        );
      }
    } else {
      variant = pickVariantByWeight(endpoint.variants, this.options.random);
      if (!variant) {
        throw new AwsError(
          "ServiceUnavailableError",
          503,
          `Endpoint ${endpointName} has no variant with a weight above 0; name one with X-Amzn-SageMaker-Target-Variant.`,
        );
      }
    }
    return { endpoint, variant };
  }

  /**
   * Reserves a slot on the least-loaded healthy instance of the variant. A full variant never
   * spills into another: the caller gets 503.
   */
  acquire(endpoint: RoutableEndpoint, variant: RoutableVariant): SessionLease {
    if (this.total >= this.options.maxSessions) {
      throw new AwsError("ServiceUnavailableError", 503, `Sluice is at its limit of ${this.options.maxSessions} concurrent sessions.`);
    }
    const now = this.now();
    const candidates = variant.instances.filter((i) => i.inRotation && (this.quarantinedUntil.get(i.instanceId) ?? 0) <= now);
    if (candidates.length === 0) {
      throw new AwsError(
        "ServiceUnavailableError",
        503,
        `No healthy instance of variant ${variant.variantName} of endpoint ${endpoint.endpointName} is available; try again shortly.`,
      );
    }
    let best: RoutableInstance | undefined;
    let bestCount = Infinity;
    for (const instance of candidates) {
      const count = this.active.get(instance.instanceId) ?? 0;
      if (count < this.options.maxSessionsPerInstance && count < bestCount) {
        best = instance;
        bestCount = count;
      }
    }
    if (!best) {
      throw new AwsError(
        "ServiceUnavailableError",
        503,
        `Every instance of variant ${variant.variantName} of endpoint ${endpoint.endpointName} is at its limit of ${this.options.maxSessionsPerInstance} sessions.`,
      );
    }
    const instance = best;
    this.active.set(instance.instanceId, bestCount + 1);
    this.total += 1;
    let released = false;
    return {
      endpoint,
      variant,
      instance,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.active.get(instance.instanceId) ?? 1) - 1;
        if (left <= 0) this.active.delete(instance.instanceId);
        else this.active.set(instance.instanceId, left);
      },
    };
  }

  /** A failed or timed-out upgrade: out of rotation for a while, replaced after repeated failures. */
  reportDialFailure(instanceId: string): void {
    this.quarantinedUntil.set(instanceId, this.now() + this.options.quarantineMs);
    const failures = (this.dialFailures.get(instanceId) ?? 0) + 1;
    this.dialFailures.set(instanceId, failures);
    if (failures >= this.options.replaceAfterFailures) {
      this.dialFailures.delete(instanceId);
      this.options.onReplaceInstance?.(instanceId);
    }
  }

  reportDialSuccess(instanceId: string): void {
    this.dialFailures.delete(instanceId);
    this.quarantinedUntil.delete(instanceId);
  }

  activeSessions(instanceId: string): number {
    return this.active.get(instanceId) ?? 0;
  }

  totalSessions(): number {
    return this.total;
  }

  /** Forget an instance that has gone, so its id cannot carry stale state. */
  forgetInstance(instanceId: string): void {
    this.quarantinedUntil.delete(instanceId);
    this.dialFailures.delete(instanceId);
  }
}
