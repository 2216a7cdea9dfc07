// The reconciler moves each endpoint from the state the API asked for (the store) to the state
// that runs (instances), and is the only writer of actual state: endpoint status after the API's
// first word, FailureReason, the serving deployment, instance records, and the live state the
// runtime reads.
//
// One worker per endpoint serializes its transitions; `kick(name)` after every API write wakes
// it. A transition that must give way (DeleteEndpoint during a rollout, shutdown) is aborted
// through an AbortSignal and cleans up what it started. Every store write re-reads the record and
// checks the status it expects, so an API call that landed meanwhile is never overwritten.

import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Instance, InstanceExit, InstanceRecord } from "../hosting/host.js";
import { isBidiCapable } from "../hosting/host.js";
import { readLogTail } from "../hosting/log-tail.js";
import { HealthProber, type ProbeTarget } from "./health-prober.js";
import { hostForImage, inspectImage, type HostResolver } from "./image.js";
import type { LiveEndpoint, LiveInstance, LiveInstanceState, LiveStateReader, LiveVariant } from "./live-state.js";
import { withLogLines } from "./failure-reason.js";
import { silentLogger, type ControlLogger } from "./logger.js";
import { ping, type PingResult } from "./ping.js";
import type { DeploymentRecord, DeploymentVariant, EndpointRecord, EndpointStatus } from "./records.js";
import { noSessionDrainer, type SessionDrainer } from "./session-drainer.js";
import type { Store } from "./store.js";

export interface ReconcilerOptions {
  store: Store;
  hosts: HostResolver;
  dataDir: string;
  drainer?: SessionDrainer;
  logger?: ControlLogger;
  /** Epoch milliseconds for the timestamps the API reports; replaceable for tests. Durations
   *  (startup deadlines, backoff) use the monotonic clock. */
  now?: () => number;
  /** Startup /ping deadline when a variant has no ContainerStartupHealthCheckTimeoutInSeconds. Default 120 s. */
  instanceStartTimeoutMs?: number;
  /** How often a starting instance is pinged. Default 500 ms. */
  startupPollIntervalMs?: number;
  /** Timeout of one GET /ping. Default 2 s. */
  pingTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopping an instance. Default 30 s. */
  stopGraceMs?: number;
  /** How long sessions may run on instances being retired. Default 60 s. */
  drainTimeoutMs?: number;
  /** Health probe interval for running instances. Default 5 s. */
  probeIntervalMs?: number;
  /** Failed probes in a row before an instance is killed and replaced. Default 3. */
  unhealthyThreshold?: number;
  /** Delay before replacing an instance whose predecessor also crashed; doubles per further crash. Default 1 s. */
  restartBackoffBaseMs?: number;
  /** Cap of that delay. Default 60 s. */
  restartBackoffMaxMs?: number;
  /** An instance healthy this long resets its variant's crash count. Default 60 s. */
  crashResetMs?: number;
}

interface Managed {
  instance: Instance;
  instanceId: string;
  deploymentId: string;
  variantName: string;
  state: LiveInstanceState;
  restarts: number;
  probeFailures: number;
  /** Monotonic ms at which it first answered /ping. */
  healthySince?: number;
  /** Why we killed it, when we did (probes); otherwise it died on its own. */
  killedBecause?: string;
  exit?: InstanceExit;
}

/** Replacement bookkeeping for one variant of the serving deployment. */
interface Slot {
  crashes: number;
  restarts: number;
  inflight: number;
  /** Monotonic ms, for the backoff. */
  lastFailureAt: number;
  /** Epoch seconds, for VariantStatus.StartTime. */
  lastFailureEpoch?: number;
  lastError?: string;
  timer?: NodeJS.Timeout;
}

interface EndpointState {
  key: string;
  record?: EndpointRecord;
  current?: DeploymentRecord;
  desired?: DeploymentRecord;
  instances: Map<string, Managed>;
  slots: Map<string, Slot>;
  running: boolean;
  dirty: boolean;
  /** Aborts the transition in progress. */
  task?: AbortController;
  /** Aborts background replacements (delete, shutdown). */
  maintenance: AbortController;
  snapshot?: LiveEndpoint;
}

class StartFailure extends Error {}

const RUNNING_STATES: ReadonlySet<LiveInstanceState> = new Set(["Starting", "Healthy", "Unhealthy"]);

export interface VariantRuntime {
  currentInstanceCount: number;
  status: { Status: string; StatusMessage?: string; StartTime?: number }[];
}

export interface InstanceListing {
  endpointName: string;
  variantName: string;
  instanceId: string;
  deploymentId: string;
  pid?: number;
  containerId?: string;
  host: string;
  port: number;
  state: LiveInstanceState;
  inRotation: boolean;
  restarts: number;
  startedAt: Date;
  logFile: string;
}

export class Reconciler implements LiveStateReader {
  private readonly store: Store;
  private readonly hosts: HostResolver;
  private readonly dataDir: string;
  private readonly drainer: SessionDrainer;
  private readonly log: ControlLogger;
  private readonly now: () => number;
  private readonly cfg: Required<
    Omit<ReconcilerOptions, "store" | "hosts" | "dataDir" | "drainer" | "logger" | "now">
  >;
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly listeners = new Set<(endpointName: string) => void>();
  private readonly prober: HealthProber;
  private readonly idleWaiters: (() => void)[] = [];
  /** Every launch in progress, so that close() can wait for them. */
  private readonly launches = new Set<Promise<unknown>>();
  private closed = false;

  constructor(options: ReconcilerOptions) {
    this.store = options.store;
    this.hosts = options.hosts;
    this.dataDir = options.dataDir;
    this.drainer = options.drainer ?? noSessionDrainer;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.cfg = {
      instanceStartTimeoutMs: options.instanceStartTimeoutMs ?? 120_000,
      startupPollIntervalMs: options.startupPollIntervalMs ?? 500,
      pingTimeoutMs: options.pingTimeoutMs ?? 2_000,
      stopGraceMs: options.stopGraceMs ?? 30_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
      probeIntervalMs: options.probeIntervalMs ?? 5_000,
      unhealthyThreshold: options.unhealthyThreshold ?? 3,
      restartBackoffBaseMs: options.restartBackoffBaseMs ?? 1_000,
      restartBackoffMaxMs: options.restartBackoffMaxMs ?? 60_000,
      crashResetMs: options.crashResetMs ?? 60_000,
    };
    this.prober = new HealthProber(
      { probeTargets: () => this.probeTargets(), probeResult: (id, r) => this.probeResult(id, r) },
      { intervalMs: this.cfg.probeIntervalMs, timeoutMs: this.cfg.pingTimeoutMs },
    );
  }

  /**
   * After (re)start: kill what the previous run left behind, then resume every endpoint —
   * Creating resumes, Updating restarts its rollout, Deleting completes, InService comes back
   * with fresh instances.
   */
  async start(): Promise<void> {
    const rows = this.store.listInstanceRows();
    for (const host of this.hosts.all()) {
      // Called even with no records: the Docker host finds its leftovers by label, including
      // containers created just before a crash, before their rows were written.
      const mine = rows.filter((r) => r.hostKind === host.kind);
      const records: InstanceRecord[] = mine.map((r) => ({
        instanceId: r.instanceId,
        pid: r.pid,
        startTimeMs: r.startTimeMs,
        containerId: r.containerId,
      }));
      await host.reapLeftovers(records);
      this.log.info({ host: host.kind, instances: records.map((r) => r.instanceId) }, "reaped instances of the previous run");
      this.store.transaction(() => {
        for (const r of mine) this.store.deleteInstance(r.instanceId);
      });
    }
    for (const r of rows) {
      if (!this.hosts.all().some((h) => h.kind === r.hostKind)) {
        this.log.warn({ instanceId: r.instanceId, host: r.hostKind }, "leftover instance of a host that is not configured; kept on record");
      }
    }
    for (const e of this.store.listEndpoints()) this.kick(e.name);
    this.prober.start();
  }

  /** The API wrote something about this endpoint: pick it up now. */
  kick(name: string): void {
    if (this.closed) return;
    const ep = this.state(name);
    this.refresh(ep);
    if (ep.record?.status === "Deleting") {
      ep.task?.abort();
      ep.maintenance.abort();
    }
    ep.dirty = true;
    if (!ep.running) {
      ep.running = true;
      void this.loop(ep);
    }
  }

  /** Resolves once no endpoint has a transition in progress (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (![...this.endpoints.values()].some((e) => e.running)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops probing and every instance (draining their sessions first); the store is left as is. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.prober.stop();
    for (const ep of this.endpoints.values()) {
      ep.task?.abort();
      ep.maintenance.abort();
      for (const slot of ep.slots.values()) clearTimeout(slot.timer);
    }
    // Let aborted transitions and launches finish their own cleanup before the store closes
    // under them, then stop whatever is still running.
    await this.whenIdle();
    await Promise.allSettled([...this.launches]);
    await Promise.all([...this.endpoints.values()].map((ep) => this.retire(ep, [...ep.instances.values()], true)));
  }

  // ── LiveStateReader ───────────────────────────────────────────────────────────────────────
  getLiveEndpoint(name: string): LiveEndpoint | undefined {
    const ep = this.endpoints.get(name.toLowerCase());
    if (ep?.record === undefined) return undefined;
    ep.snapshot ??= this.buildSnapshot(ep, ep.record);
    return ep.snapshot;
  }

  listLiveEndpoints(): LiveEndpoint[] {
    return [...this.endpoints.values()]
      .map((ep) => this.getLiveEndpoint(ep.key))
      .filter((e): e is LiveEndpoint => e !== undefined);
  }

  onChange(listener: (endpointName: string) => void): () => void {
    // Wrapped so that subscribing the same function twice still needs two unsubscribes.
    const entry = (name: string): void => listener(name);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  reportInstanceFailure(instanceId: string, reason: string): void {
    this.probeResult(instanceId, { ok: false, detail: reason });
  }

  // ── what the API reads ────────────────────────────────────────────────────────────────────
  variantRuntime(endpointName: string, deploymentId: string, variantName: string): VariantRuntime {
    const ep = this.endpoints.get(endpointName.toLowerCase());
    const members = ep ? this.membersOf(ep, deploymentId, variantName) : [];
    const healthy = members.filter((m) => m.state === "Healthy").length;
    const status: VariantRuntime["status"] = [];
    const rec = ep?.record;
    const since = rec?.lastModifiedTime;
    const d = rec?.desiredDeploymentId === deploymentId ? ep?.desired : ep?.current;
    const desired = d?.variants.find((v) => v.variantName === variantName)?.desiredInstanceCount ?? 0;
    if (rec !== undefined) {
      if (rec.status === "Deleting") status.push({ Status: "Deleting", StartTime: since });
      else if (rec.status === "Creating" || (rec.status === "Updating" && rec.currentDeploymentId !== deploymentId)) {
        status.push({ Status: "Creating", StatusMessage: `${healthy} of ${desired} instances healthy`, StartTime: since });
      } else if (rec.status === "Updating") {
        status.push({ Status: "Updating", StatusMessage: `${healthy} of ${desired} instances healthy`, StartTime: since });
      } else if (rec.status === "InService" && healthy < desired) {
        const slot = ep?.slots.get(variantName);
        const why = slot?.lastError === undefined ? "" : `: ${slot.lastError}`;
        status.push({
          Status: "Updating",
          StatusMessage: `Replacing instances, ${healthy} of ${desired} healthy${why}`.slice(0, 1024),
          StartTime: slot?.lastFailureEpoch ?? since,
        });
      }
    }
    return { currentInstanceCount: healthy, status };
  }

  listInstances(endpointName?: string): InstanceListing[] {
    const out: InstanceListing[] = [];
    for (const ep of this.endpoints.values()) {
      if (ep.record === undefined) continue;
      if (endpointName !== undefined && ep.key !== endpointName.toLowerCase()) continue;
      for (const m of ep.instances.values()) {
        out.push({
          endpointName: ep.record.name,
          variantName: m.variantName,
          instanceId: m.instanceId,
          deploymentId: m.deploymentId,
          pid: m.instance.pid,
          containerId: m.instance.containerId,
          host: m.instance.host,
          port: m.instance.port,
          state: m.state,
          inRotation: this.inRotation(ep, m),
          restarts: m.restarts,
          startedAt: m.instance.startedAt,
          logFile: m.instance.logFile,
        });
      }
    }
    return out;
  }

  // ── the per-endpoint worker ───────────────────────────────────────────────────────────────
  private state(name: string): EndpointState {
    const key = name.toLowerCase();
    let ep = this.endpoints.get(key);
    if (ep === undefined) {
      ep = {
        key,
        instances: new Map(),
        slots: new Map(),
        running: false,
        dirty: false,
        maintenance: new AbortController(),
      };
      this.endpoints.set(key, ep);
    }
    return ep;
  }

  private refresh(ep: EndpointState): void {
    const rec = this.store.getEndpoint(ep.key);
    ep.record = rec;
    ep.current = rec?.currentDeploymentId ? this.store.getDeployment(rec.currentDeploymentId) : undefined;
    ep.desired = rec?.desiredDeploymentId ? this.store.getDeployment(rec.desiredDeploymentId) : undefined;
    if (rec !== undefined && rec.status !== "Deleting" && ep.maintenance.signal.aborted && !this.closed) {
      ep.maintenance = new AbortController();
    }
    this.changed(ep);
  }

  private changed(ep: EndpointState): void {
    ep.snapshot = undefined;
    const name = ep.record?.name ?? ep.key;
    // A listener's bug must not break the transition that announced the change.
    for (const listener of [...this.listeners]) {
      try {
        listener(name);
      } catch (err) {
        this.log.error({ err, endpoint: name }, "live-state listener failed");
      }
    }
  }

  private async loop(ep: EndpointState): Promise<void> {
    try {
      while (ep.dirty && !this.closed) {
        ep.dirty = false;
        ep.task = new AbortController();
        try {
          await this.reconcile(ep, ep.task.signal);
        } catch (err) {
          this.log.error({ err, endpoint: ep.key }, "reconcile failed");
        }
      }
    } finally {
      ep.running = false;
      ep.task = undefined;
      if (![...this.endpoints.values()].some((e) => e.running)) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  private async reconcile(ep: EndpointState, signal: AbortSignal): Promise<void> {
    this.refresh(ep);
    const rec = ep.record;
    if (rec === undefined) {
      await this.retire(ep, [...ep.instances.values()], false);
      this.endpoints.delete(ep.key);
      return;
    }
    switch (rec.status) {
      case "Deleting":
        return this.completeDelete(ep);
      case "Creating":
        return this.create(ep, signal);
      case "Updating":
        return rec.desiredDeploymentId !== rec.currentDeploymentId ? this.rollout(ep, signal) : this.scale(ep, signal);
      case "InService":
        await this.retire(ep, this.strays(ep), true);
        await this.trimExtras(ep, ep.current);
        this.ensureCounts(ep);
        return;
      default:
        // Failed (and states Sluice never enters): nothing may run.
        await this.retire(ep, [...ep.instances.values()], false);
        return;
    }
  }

  private async create(ep: EndpointState, signal: AbortSignal): Promise<void> {
    const d = ep.desired;
    if (d === undefined) return this.fail(ep, ["Creating"], "Internal error: the endpoint has no deployment record.");
    try {
      await this.bringUp(ep, d, signal);
    } catch (err) {
      if (signal.aborted) return;
      await this.retire(ep, [...ep.instances.values()], false);
      return this.fail(ep, ["Creating"], (err as Error).message);
    }
    this.transition(ep, ["Creating"], (r) => {
      r.status = "InService";
      r.currentDeploymentId = d.id;
      r.failureReason = undefined;
    });
    this.ensureCounts(ep);
  }

  private async rollout(ep: EndpointState, signal: AbortSignal): Promise<void> {
    const d = ep.desired;
    const old = ep.current;
    if (d === undefined) return;
    // The old deployment keeps serving (and comes back first after a restart).
    this.ensureCounts(ep);
    try {
      await this.bringUp(ep, d, signal);
    } catch (err) {
      if (signal.aborted) return;
      const reason = (err as Error).message;
      await this.retire(ep, this.membersOf(ep, d.id), false);
      this.transition(ep, ["Updating"], (r) => {
        r.status = "InService";
        r.desiredDeploymentId = r.currentDeploymentId;
        r.failureReason = reason;
      });
      this.store.deleteDeployment(d.id);
      this.log.warn({ endpoint: ep.key, reason }, "update failed; the previous configuration keeps serving");
      return;
    }
    const switched = this.transition(ep, ["Updating"], (r) => {
      r.status = "InService";
      r.currentDeploymentId = d.id;
      r.endpointConfigName = d.endpointConfigName;
      r.failureReason = undefined;
    });
    if (!switched) return;
    for (const slot of ep.slots.values()) clearTimeout(slot.timer);
    ep.slots.clear();
    this.ensureCounts(ep);
    // Only now do the old instances go: out of rotation already (not the serving deployment),
    // their sessions get the drain window.
    await this.retire(ep, this.strays(ep), true);
    if (old !== undefined && old.id !== d.id) this.store.deleteDeployment(old.id);
  }

  /** UpdateEndpointWeightsAndCapacities changed instance counts. */
  private async scale(ep: EndpointState, signal: AbortSignal): Promise<void> {
    const d = ep.current;
    if (d === undefined) return;
    let failure: string | undefined;
    try {
      await this.bringUp(ep, d, signal);
    } catch (err) {
      if (signal.aborted) return;
      failure = (err as Error).message;
      // Settle for what is running: the desired count goes back to the healthy count.
      const fresh = this.store.getDeployment(d.id);
      if (fresh !== undefined) {
        for (const v of fresh.variants) {
          const healthy = this.membersOf(ep, d.id, v.variantName).filter((m) => m.state === "Healthy").length;
          if (healthy < v.desiredInstanceCount && healthy > 0) v.desiredInstanceCount = healthy;
        }
        this.store.updateDeployment(fresh);
        this.refresh(ep);
      }
    }
    await this.trimExtras(ep, ep.current);
    this.transition(ep, ["Updating"], (r) => {
      r.status = "InService";
      r.failureReason = failure;
    });
    this.ensureCounts(ep);
  }

  private async completeDelete(ep: EndpointState): Promise<void> {
    for (const slot of ep.slots.values()) clearTimeout(slot.timer);
    ep.slots.clear();
    await this.retire(ep, [...ep.instances.values()], true);
    // Re-check: the record may only go if it is still being deleted.
    if (this.store.getEndpoint(ep.key)?.status === "Deleting") this.store.deleteEndpoint(ep.key);
    this.refresh(ep);
    if (ep.record === undefined) this.endpoints.delete(ep.key);
  }

  private fail(ep: EndpointState, from: EndpointStatus[], reason: string): void {
    this.log.warn({ endpoint: ep.key, reason }, "endpoint failed");
    this.transition(ep, from, (r) => {
      r.status = "Failed";
      r.failureReason = reason;
    });
  }

  /** Read-modify-write of the endpoint record, only if its status is still one of `from`. */
  private transition(ep: EndpointState, from: EndpointStatus[], change: (r: EndpointRecord) => void): boolean {
    const applied = this.store.transaction(() => {
      const r = this.store.getEndpoint(ep.key);
      if (r === undefined || !from.includes(r.status)) return false;
      change(r);
      r.failureReason = r.failureReason?.slice(0, 1024);
      r.lastModifiedTime = this.now() / 1000;
      this.store.updateEndpoint(r);
      return true;
    });
    this.refresh(ep);
    return applied;
  }

  // ── instances ─────────────────────────────────────────────────────────────────────────────
  /** Starts the missing instances of every variant of `d` and waits until they answer /ping. */
  private async bringUp(ep: EndpointState, d: DeploymentRecord, signal: AbortSignal): Promise<void> {
    await this.resolveImages(ep, d);
    const local = new AbortController();
    const abort = (): void => local.abort();
    signal.addEventListener("abort", abort, { once: true });
    try {
      const launches: Promise<Managed>[] = [];
      for (const v of d.variants) {
        const have = this.membersOf(ep, d.id, v.variantName).filter((m) => RUNNING_STATES.has(m.state));
        for (let i = have.length; i < v.desiredInstanceCount; i++) {
          launches.push(
            this.launch(ep, d, v, 0, local.signal).catch((err: unknown) => {
              local.abort();
              throw err;
            }),
          );
        }
        // Already there but not yet healthy (e.g. a rollout restarted): wait for them too.
        for (const m of have.filter((m) => m.state !== "Healthy")) {
          launches.push(this.waitHealthy(m, this.startTimeout(v), local.signal).then(() => m));
        }
      }
      const results = await Promise.allSettled(launches);
      if (signal.aborted) throw new StartFailure("aborted");
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      // The first real failure, not the "aborted" of the siblings it cancelled.
      const real = results.find(
        (r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof AbortError),
      );
      if (failed !== undefined) throw (real ?? failed).reason;
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  /** DeployedImages: each variant's image is inspected once per deployment. */
  private async resolveImages(ep: EndpointState, d: DeploymentRecord): Promise<void> {
    let changed = false;
    for (const v of d.variants) {
      if (v.resolvedImage !== undefined) continue;
      try {
        const host = hostForImage(this.hosts, v.image);
        const info = await inspectImage(host, v.image);
        v.resolvedImage = info.resolvedImage;
        v.resolutionTime = this.now() / 1000;
        v.bidiCapable = isBidiCapable(info);
        changed = true;
      } catch (err) {
        throw new StartFailure(`Variant ${v.variantName}: ${(err as Error).message}`);
      }
    }
    if (changed) {
      // Merge into the stored record: a concurrent weight change must not be lost.
      const fresh = this.store.getDeployment(d.id);
      if (fresh !== undefined) {
        for (const v of fresh.variants) {
          const resolved = d.variants.find((x) => x.variantName === v.variantName);
          if (resolved === undefined) continue;
          v.resolvedImage = resolved.resolvedImage;
          v.resolutionTime = resolved.resolutionTime;
          v.bidiCapable = resolved.bidiCapable;
        }
        this.store.updateDeployment(fresh);
      }
      this.refresh(ep);
    }
  }

  private startTimeout(v: DeploymentVariant): number {
    return v.startupTimeoutSeconds !== undefined ? v.startupTimeoutSeconds * 1000 : this.cfg.instanceStartTimeoutMs;
  }

  /** Start one instance and wait for /ping; on failure it is killed and the error says why. */
  private launch(
    ep: EndpointState,
    d: DeploymentRecord,
    v: DeploymentVariant,
    restarts: number,
    signal: AbortSignal,
  ): Promise<Managed> {
    const p = this.launchOne(ep, d, v, restarts, signal);
    this.launches.add(p);
    const forget = (): void => void this.launches.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async launchOne(
    ep: EndpointState,
    d: DeploymentRecord,
    v: DeploymentVariant,
    restarts: number,
    signal: AbortSignal,
  ): Promise<Managed> {
    if (signal.aborted) throw new AbortError();
    const host = hostForImage(this.hosts, v.image);
    const instanceId = `${d.endpointName}-${v.variantName}-${randomBytes(4).toString("hex")}`;
    const logDir = join(this.dataDir, "logs", d.endpointName);
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `${instanceId}.log`);
    let instance: Instance;
    try {
      instance = await host.start({
        instanceId,
        endpointName: d.endpointName,
        variantName: v.variantName,
        image: v.image,
        modelDataPath: v.modelDataPath,
        environment: v.environment,
        instanceType: v.instanceType,
        logFile,
        labels: { "sluice.instance-id": instanceId, "sluice.endpoint": d.endpointName, "sluice.variant": v.variantName },
        // Recorded before the instance is ready: if Sluice dies while it starts, the next run reaps it.
        onSpawned: (record) =>
          this.store.insertInstance({
            instanceId,
            endpointName: d.endpointName,
            deploymentId: d.id,
            variantName: v.variantName,
            hostKind: host.kind,
            pid: record.pid,
            startTimeMs: record.startTimeMs,
            containerId: record.containerId,
            logFile,
          }),
      });
    } catch (err) {
      this.store.deleteInstance(instanceId);
      const lines = await tailLines(logFile);
      throw new StartFailure(
        withLogLines(`Instance ${instanceId} of variant ${v.variantName} could not be started: ${(err as Error).message}.`, lines),
      );
    }
    if (signal.aborted || this.closed) {
      // Started while the transition was being called off: it must not outlive it.
      instance.kill();
      await instance.exited;
      throw new AbortError();
    }
    const m: Managed = {
      instance,
      instanceId,
      deploymentId: d.id,
      variantName: v.variantName,
      state: "Starting",
      restarts,
      probeFailures: 0,
    };
    ep.instances.set(instanceId, m);
    void instance.exited.then((exit) => this.onExit(ep, m, exit));
    try {
      this.recordInstance(d, v, m, host.kind, logFile);
    } catch (err) {
      await this.stopNow(ep, m);
      throw err;
    }
    this.log.info({ endpoint: d.endpointName, instanceId, pid: instance.pid, port: instance.port }, "instance started");
    this.changed(ep);
    try {
      await this.waitHealthy(m, this.startTimeout(v), signal);
    } catch (err) {
      await this.stopNow(ep, m);
      throw err;
    }
    return m;
  }

  /** The pid and start time go to the store before anything else, for reaping after a crash. */
  private recordInstance(d: DeploymentRecord, v: DeploymentVariant, m: Managed, hostKind: string, logFile: string): void {
    const { instance, instanceId } = m;
    this.store.insertInstance({
      instanceId,
      endpointName: d.endpointName,
      deploymentId: d.id,
      variantName: v.variantName,
      hostKind,
      pid: instance.pid,
      startTimeMs: instance.startTimeMs ?? instance.startedAt.getTime(),
      containerId: instance.containerId,
      port: instance.port,
      logFile,
    });
  }

  private async waitHealthy(m: Managed, timeoutMs: number, signal: AbortSignal): Promise<void> {
    // The deadline counts from when the instance started (SageMaker counts from container start),
    // on the monotonic clock: wall-clock jumps must not fail or extend a startup.
    const sinceStart = Math.max(0, Date.now() - m.instance.startedAt.getTime());
    const deadline = monotonic() + timeoutMs - sinceStart;
    let last: PingResult | undefined;
    for (;;) {
      if (signal.aborted) throw new AbortError();
      if (m.exit !== undefined || m.state === "Stopping") {
        throw await this.startFailure(m, `exited (${describeExit(m.exit)}) before answering GET /ping`);
      }
      const remaining = deadline - monotonic();
      // At least one probe, however late: the host may have spent the budget waiting for the
      // port, and the reason should say what the instance answered.
      if (remaining <= 0 && last !== undefined) {
        throw await this.startFailure(
          m,
          `did not answer GET /ping with 200 within ${formatDuration(timeoutMs)} (${last?.detail ?? "no answer"})`,
        );
      }
      const budget = last === undefined ? this.cfg.pingTimeoutMs : Math.min(this.cfg.pingTimeoutMs, remaining);
      const result = await ping(m.instance.host, m.instance.port, budget);
      // A probe cut short by the deadline says nothing about the instance; keep what it said before.
      if (!(result.timedOut && budget < this.cfg.pingTimeoutMs && last !== undefined)) last = result;
      if (result.ok && m.exit === undefined) {
        if (m.state === "Starting") {
          m.state = "Healthy";
          m.healthySince = monotonic();
          const ep = this.owner(m);
          if (ep !== undefined) this.changed(ep);
        }
        return;
      }
      await delay(Math.min(this.cfg.startupPollIntervalMs, Math.max(0, deadline - monotonic())), signal, m.instance.exited);
    }
  }

  private async startFailure(m: Managed, what: string): Promise<StartFailure> {
    // The exit may still be flushing the log; give the file a moment by reading after exit.
    const lines = await tailLines(m.instance.logFile);
    return new StartFailure(withLogLines(`Instance ${m.instanceId} of variant ${m.variantName} ${what}.`, lines));
  }

  private onExit(ep: EndpointState, m: Managed, exit: InstanceExit): void {
    m.exit = exit;
    ep.instances.delete(m.instanceId);
    try {
      this.store.deleteInstance(m.instanceId);
    } catch (err) {
      // Only after close(): the record then names a process that is gone, which reaping skips.
      this.log.debug({ err, instanceId: m.instanceId }, "instance record not removed");
    }
    const intentional = m.state === "Stopping" || m.state === "Draining";
    m.state = "Stopping";
    this.changed(ep);
    if (intentional || this.closed) return;
    const why = m.killedBecause ?? `exited (${describeExit(exit)})`;
    this.log.warn({ endpoint: ep.key, instanceId: m.instanceId, exit }, "instance went away");
    if (m.deploymentId !== ep.current?.id) return;
    const slot = this.slot(ep, m.variantName);
    const stable = m.healthySince !== undefined && monotonic() - m.healthySince >= this.cfg.crashResetMs;
    slot.crashes = stable ? 1 : slot.crashes + 1;
    slot.lastFailureAt = monotonic();
    slot.lastFailureEpoch = this.now() / 1000;
    slot.lastError = `instance ${m.instanceId} ${why}`;
    void tailLines(m.instance.logFile, 5).then((lines) => {
      slot.lastError = withLogLines(`instance ${m.instanceId} ${why}.`, lines, 900);
      this.changed(ep);
    });
    this.ensureCounts(ep);
  }

  private slot(ep: EndpointState, variantName: string): Slot {
    let s = ep.slots.get(variantName);
    if (s === undefined) {
      s = { crashes: 0, restarts: 0, inflight: 0, lastFailureAt: 0 };
      ep.slots.set(variantName, s);
    }
    return s;
  }

  /**
   * Keeps the serving deployment at its desired count while the endpoint is InService (or
   * serving during a rollout): replaces instances that died, with exponential backoff when they
   * keep dying.
   */
  private ensureCounts(ep: EndpointState): void {
    const rec = ep.record;
    const d = ep.current;
    if (this.closed || rec === undefined || d === undefined) return;
    const serving = rec.status === "InService" || (rec.status === "Updating" && rec.desiredDeploymentId !== d.id);
    if (!serving) return;
    const signal = ep.maintenance.signal;
    for (const v of d.variants) {
      const slot = this.slot(ep, v.variantName);
      const have = this.membersOf(ep, d.id, v.variantName).filter((m) => RUNNING_STATES.has(m.state)).length;
      const missing = v.desiredInstanceCount - have - slot.inflight;
      if (missing <= 0) continue;
      // The first crash is replaced at once; only a model that keeps crashing waits, doubling.
      if (slot.crashes > 1) {
        const backoff = Math.min(this.cfg.restartBackoffBaseMs * 2 ** (slot.crashes - 2), this.cfg.restartBackoffMaxMs);
        const wait = slot.lastFailureAt + backoff - monotonic();
        if (wait > 0) {
          if (slot.timer === undefined) {
            slot.timer = setTimeout(() => {
              slot.timer = undefined;
              this.ensureCounts(ep);
            }, wait);
            slot.timer.unref();
          }
          continue;
        }
      }
      for (let i = 0; i < missing; i++) {
        const restarts = slot.crashes > 0 ? ++slot.restarts : slot.restarts;
        slot.inflight++;
        this.launch(ep, d, v, restarts, signal).then(
          () => {
            slot.inflight--;
            this.changed(ep);
          },
          (err: unknown) => {
            slot.inflight--;
            if (err instanceof AbortError || signal.aborted) return;
            slot.crashes++;
            slot.lastFailureAt = monotonic();
    slot.lastFailureEpoch = this.now() / 1000;
            slot.lastError = (err as Error).message;
            this.log.warn({ endpoint: ep.key, variant: v.variantName, err: slot.lastError }, "replacement failed");
            this.changed(ep);
            this.ensureCounts(ep);
          },
        );
      }
    }
  }

  /** Instances beyond a variant's desired count go: unhealthy and starting ones first, then the newest. */
  private async trimExtras(ep: EndpointState, d: DeploymentRecord | undefined): Promise<void> {
    if (d === undefined) return;
    const extras: Managed[] = [];
    const rank = (m: Managed): number => (m.state === "Healthy" ? 1 : 0);
    for (const v of d.variants) {
      const running = this.membersOf(ep, d.id, v.variantName)
        .filter((m) => RUNNING_STATES.has(m.state))
        .sort((a, b) => rank(a) - rank(b) || b.instance.startedAt.getTime() - a.instance.startedAt.getTime());
      extras.push(...running.slice(0, Math.max(0, running.length - v.desiredInstanceCount)));
    }
    await this.retire(ep, extras, true);
  }

  /** Instances of deployments that are neither serving nor being rolled out. */
  private strays(ep: EndpointState): Managed[] {
    const keep = new Set([ep.current?.id, ep.record?.status === "Updating" ? ep.desired?.id : undefined]);
    return [...ep.instances.values()].filter((m) => !keep.has(m.deploymentId));
  }

  /** Out of rotation, drain (if asked), then SIGTERM → grace → SIGKILL. */
  private async retire(ep: EndpointState, list: Managed[], drain: boolean): Promise<void> {
    // Ones already draining or stopping belong to another retire in progress.
    const targets = list.filter((m) => m.state !== "Stopping" && m.state !== "Draining" && m.exit === undefined);
    if (targets.length === 0) return;
    for (const m of targets) m.state = "Draining";
    this.changed(ep);
    if (drain) {
      try {
        await this.drainer.drain(
          targets.map((m) => m.instanceId),
          this.cfg.drainTimeoutMs,
        );
      } catch (err) {
        this.log.error({ err, endpoint: ep.key }, "draining sessions failed; stopping the instances anyway");
      }
    }
    for (const m of targets) m.state = "Stopping";
    this.changed(ep);
    await Promise.all(targets.map((m) => m.instance.stop(this.cfg.stopGraceMs)));
  }

  /** For instances that never became healthy: no drain, no grace. */
  private async stopNow(ep: EndpointState, m: Managed): Promise<void> {
    if (m.exit !== undefined) return;
    m.state = "Stopping";
    this.changed(ep);
    m.instance.kill();
    await m.instance.exited;
  }

  private membersOf(ep: EndpointState, deploymentId: string, variantName?: string): Managed[] {
    return [...ep.instances.values()].filter(
      (m) => m.deploymentId === deploymentId && (variantName === undefined || m.variantName === variantName),
    );
  }

  private owner(m: Managed): EndpointState | undefined {
    for (const ep of this.endpoints.values()) if (ep.instances.get(m.instanceId) === m) return ep;
    return undefined;
  }

  private inRotation(ep: EndpointState, m: Managed): boolean {
    return m.state === "Healthy" && m.deploymentId === ep.current?.id;
  }

  // ── health probes ─────────────────────────────────────────────────────────────────────────
  private probeTargets(): ProbeTarget[] {
    const out: ProbeTarget[] = [];
    for (const ep of this.endpoints.values()) {
      for (const m of ep.instances.values()) {
        if (m.state === "Healthy" || m.state === "Unhealthy") {
          out.push({ instanceId: m.instanceId, host: m.instance.host, port: m.instance.port });
        }
      }
    }
    return out;
  }

  private probeResult(instanceId: string, result: PingResult): void {
    for (const ep of this.endpoints.values()) {
      const m = ep.instances.get(instanceId);
      if (m === undefined) continue;
      if (m.state !== "Healthy" && m.state !== "Unhealthy") return;
      if (result.ok) {
        m.probeFailures = 0;
        if (m.state === "Unhealthy") {
          m.state = "Healthy";
          this.changed(ep);
        }
        return;
      }
      m.probeFailures++;
      if (m.state === "Healthy") {
        m.state = "Unhealthy";
        this.changed(ep);
      }
      if (m.probeFailures >= this.cfg.unhealthyThreshold) {
        // It no longer answers: no grace (DESIGN §3). The exit handler replaces it.
        m.killedBecause = `was killed after ${m.probeFailures} failed health checks (${result.detail})`;
        this.log.warn({ endpoint: ep.key, instanceId, detail: result.detail }, "instance unhealthy; killing it");
        m.instance.kill();
      }
      return;
    }
  }

  private buildSnapshot(ep: EndpointState, rec: EndpointRecord): LiveEndpoint {
    const d = ep.current;
    const variants: LiveVariant[] = (d?.variants ?? []).map((v) => ({
      variantName: v.variantName,
      currentWeight: v.desiredWeight,
      desiredInstanceCount: v.desiredInstanceCount,
      bidiCapable: v.bidiCapable ?? false,
      instances: this.membersOf(ep, d!.id, v.variantName).map(
        (m): LiveInstance => ({
          instanceId: m.instanceId,
          variantName: m.variantName,
          host: m.instance.host,
          port: m.instance.port,
          pid: m.instance.pid,
          containerId: m.instance.containerId,
          logFile: m.instance.logFile,
          startedAt: m.instance.startedAt,
          state: m.state,
          inRotation: this.inRotation(ep, m),
          restarts: m.restarts,
        }),
      ),
    }));
    return Object.freeze({ name: rec.name, arn: rec.arn, status: rec.status, variants });
  }
}

/** A log that cannot be read must not hide the failure it was meant to explain. */
function tailLines(file: string, lines = 10): Promise<string[]> {
  return readLogTail(file, { lines }).catch(() => []);
}

const monotonic = (): number => performance.now();

class AbortError extends Error {
  constructor() {
    super("aborted");
  }
}

function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function describeExit(exit: InstanceExit | undefined): string {
  if (exit === undefined) return "stopped";
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return `code ${exit.code}`;
}

/** Sleeps `ms`, waking early when the signal aborts or the instance exits. */
function delay(ms: number, signal: AbortSignal, exited: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
    void exited.then(done);
  });
}
