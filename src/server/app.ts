// The composition root (DESIGN §3): the only place that wires the parts together. Each part
// only knows the small interfaces it declares; here they meet.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { ControlPlane, hostResolver, type LiveEndpoint, type SessionDrainer } from "../control/index.js";
import { createDockerHost, ownerForDataDir } from "../hosting/docker.js";
import type { Host } from "../hosting/host.js";
import { ProcessHost } from "../hosting/process.js";
import { BidiSessionRegistry } from "../runtime/bidi-session-registry.js";
import { createBidiHandler } from "../runtime/bidi.js";
import { createInvokeHandler } from "../runtime/invoke-endpoint.js";
import { createInvokeStreamHandler } from "../runtime/invoke-endpoint-stream.js";
import { SessionRouter } from "../routing/session-router.js";
import { seededRandom } from "../routing/variant-picker.js";
import type { RoutableEndpoint } from "../routing/types.js";
import { createAuthenticator } from "./authenticator.js";
import type { ServeConfig } from "./config.js";
import { KeyStore, type AccessKey } from "./credentials.js";
import { deployExamples } from "./examples.js";
import { listen } from "./listener.js";
import { instanceExitLookup } from "./instance-exit-lookup.js";
import { registerInstanceMetrics } from "./instance-metrics.js";
import { Metrics } from "./metrics.js";
import { createRequestRouter } from "./request-router.js";

export interface StartedServer {
  url: string;
  credentials: { file: string; accessKeyIds: string[]; generated?: AccessKey };
  /** Example endpoints deployed at this start (`--deploy-examples`). */
  examples: string[];
  /** SIGHUP: re-read the credentials file; returns how many keys are accepted now. */
  reloadCredentials(): number;
  /** What Sluice holds right now, for tests and operators: the numbers a leak would show in. */
  stats(): ServerStats;
  /** Stop taking sessions, drain open ones, stop instances, close the database. */
  close(): Promise<void>;
}

export interface ServerStats {
  /** Bidi sessions past their 200 and not yet ended (the drain registry). */
  openSessions: number;
  /** Slots the router has leased out: bidi sessions from routing to their end, InvokeEndpoint calls in flight. */
  leasedSessions: number;
  /** Bytes held by open sessions: HTTP/2 output not yet sent, queued input, WebSocket buffers. */
  bufferedBytes: number;
  /** Client TCP connections open on the listener. */
  connections: number;
  /** The SQLite database, so a test can check its integrity. */
  databaseFile: string;
}

/** SageMaker gives a model 60 s to answer InvokeEndpoint. */
const MODEL_TIMEOUT_MS = 60_000;
/** Failed WebSocket upgrades in a row after which an instance is replaced (issue 4). */
const REPLACE_AFTER_DIAL_FAILURES = 3;

export async function startServer(config: ServeConfig, io: { log: Logger; env: NodeJS.ProcessEnv }): Promise<StartedServer> {
  const log = io.log;
  mkdirSync(config.dataDir, { recursive: true });

  const keys =
    config.auth === "sigv4" ? new KeyStore({ env: io.env, file: config.credentialsFile ?? join(config.dataDir, "credentials") }) : undefined;
  const loaded = keys?.load();
  if (!keys) log.warn("--auth none: requests are not verified");

  const hosts: Host[] = [new ProcessHost()];
  if (config.dockerHost) hosts.push(createDockerHost(config.dockerHost, { owner: ownerForDataDir(config.dataDir) }));
  const registry = new BidiSessionRegistry();
  let refusing = false;

  // Routing reads the control plane's live state; the control plane drains through routing.
  // Each declares what it needs; both are built here.
  let control: ControlPlane | undefined;
  const router = new SessionRouter({
    lookup: (name) => {
      const live = control?.live.getLiveEndpoint(name);
      return live && toRoutable(live);
    },
    // Seeded only on request (tests, benchmarks, reproducing a routing report).
    random: config.routingSeed === undefined ? Math.random : seededRandom(config.routingSeed),
    accountId: config.accountId,
    maxSessions: config.maxSessions,
    maxSessionsPerInstance: config.maxSessionsPerInstance,
    quarantineMs: config.instanceQuarantineMs,
    replaceAfterFailures: REPLACE_AFTER_DIAL_FAILURES,
    onReplaceInstance: (id) =>
      control?.live.reportInstanceFailure(id, `${REPLACE_AFTER_DIAL_FAILURES} WebSocket upgrades in a row failed`),
  });
  const drainer: SessionDrainer = {
    activeSessions: (id) => router.activeSessions(id),
    drain: (ids, timeoutMs) => registry.drain([...ids], timeoutMs),
  };
  control = await ControlPlane.open({
    dataDir: config.dataDir,
    hosts: hostResolver(hosts),
    accountId: config.accountId,
    drainer,
    logger: log.child({ component: "control" }),
    instanceStartTimeoutMs: config.instanceStartTimeoutMs,
    stopGraceMs: config.instanceStopGraceMs,
    drainTimeoutMs: config.drainDeadlineMs,
    probeIntervalMs: config.probeIntervalMs,
    unhealthyThreshold: config.probeFailureThreshold,
  });
  const plane = control;

  const metrics = new Metrics({ bufferedBytes: () => registry.bufferedBytes(), totalSessions: () => router.totalSessions() });
  const stopInstanceMetrics = registerInstanceMetrics(metrics.registry, plane.live);
  const authenticate = createAuthenticator({ mode: config.auth, keys, defaultRegion: config.region });
  const invokeDeps = { router, accountId: config.accountId, modelTimeoutMs: MODEL_TIMEOUT_MS };

  const onRequest = createRequestRouter({
    log,
    authenticate,
    control: (input) => plane.handle(input),
    bidi: createBidiHandler({
      router,
      registry,
      observer: metrics,
      accountId: config.accountId,
      maxPayloadBytes: config.maxPayloadBytes,
      wsConnectTimeoutMs: config.wsConnectTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      maxMissedPongs: config.maxMissedPongs,
      closeGraceMs: config.closeGraceMs,
      idleTimeoutMs: config.idleTimeoutMs,
      refusing: () => refusing,
      exits: instanceExitLookup(plane.live),
    }),
    invoke: createInvokeHandler(invokeDeps),
    invokeStream: createInvokeStreamHandler(invokeDeps),
    runtimeRefused: (endpointName, type) => metrics.refused(endpointName, type),
    ready: () => readiness(plane.live.listLiveEndpoints(), refusing),
    metrics: () => metrics.render(),
    limits: { maxControlBodyBytes: config.maxControlBodyBytes, maxInvokeBodyBytes: config.maxInvokeBodyBytes },
  });

  let listener;
  try {
    listener = await listen({
      host: config.host,
      port: config.port,
      tls: config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined,
      http2: { maxConcurrentStreams: config.maxConcurrentStreams, maxHeaderListSize: config.maxHeaderListBytes },
      connectionIdleTimeoutMs: config.connectionIdleTimeoutMs,
      connectionPingIntervalMs: config.connectionPingIntervalMs,
      onRequest,
      onError: (err) => log.debug({ err }, "connection error"),
    });
  } catch (err) {
    await plane.close();
    throw err;
  }

  const examples = config.deployExamples ? await deployExamples(plane, config.region, log) : [];

  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    credentials: { file: keys?.file ?? "", accessKeyIds: keys?.accessKeyIds() ?? [], generated: loaded?.generated },
    examples,
    reloadCredentials: () => keys?.reload() ?? 0,
    stats: () => ({
      openSessions: registry.count(),
      leasedSessions: router.totalSessions(),
      bufferedBytes: registry.bufferedBytes(),
      connections: listener.connectionCount(),
      databaseFile: join(config.dataDir, "sluice.db"),
    }),
    close: () =>
      (closing ??= (async () => {
        refusing = true;
        await registry.drain("all", config.drainDeadlineMs);
        await listener.close(1000);
        await plane.close();
        stopInstanceMetrics();
      })()),
  };
}

export function toRoutable(live: LiveEndpoint): RoutableEndpoint {
  return {
    endpointName: live.name,
    endpointArn: live.arn,
    status: live.status,
    variants: live.variants.map((v) => ({
      variantName: v.variantName,
      currentWeight: v.currentWeight,
      bidiCapable: v.bidiCapable,
      instances: v.instances.map((i) => ({
        instanceId: i.instanceId,
        host: i.host,
        port: i.port,
        pid: i.pid,
        logFile: i.logFile,
        inRotation: i.inRotation,
      })),
    })),
  };
}

/** Ready when every InService endpoint has a serving instance in each variant. */
function readiness(endpoints: LiveEndpoint[], refusing: boolean): { ready: boolean; detail: unknown } {
  if (refusing) return { ready: false, detail: "shutting down" };
  const waiting = endpoints
    .filter((e) => e.status === "InService")
    .filter((e) => e.variants.length === 0 || e.variants.some((v) => !v.instances.some((i) => i.inRotation)))
    .map((e) => e.name);
  return { ready: waiting.length === 0, detail: waiting.length === 0 ? "ok" : { waitingForInstances: waiting } };
}
