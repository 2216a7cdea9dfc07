// Every setting Sluice has, in one table: flag, environment variable, default, meaning.
// `sluice serve --help` and the README's configuration table are both read from it, so a setting
// cannot exist without being documented (DESIGN §6: flags, then environment, then defaults).

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  tlsCert?: string;
  tlsKey?: string;
  auth: "sigv4" | "none";
  credentialsFile?: string;
  dockerHost?: string;
  deployExamples: boolean;
  logLevel: string;
  instanceStartTimeoutMs: number;
  instanceStopGraceMs: number;
  pingIntervalMs: number;
  maxMissedPongs: number;
  probeIntervalMs: number;
  probeFailureThreshold: number;
  wsConnectTimeoutMs: number;
  instanceQuarantineMs: number;
  closeGraceMs: number;
  drainDeadlineMs: number;
  idleTimeoutMs: number;
  connectionIdleTimeoutMs: number;
  connectionPingIntervalMs: number;
  maxPayloadBytes: number;
  maxControlBodyBytes: number;
  maxInvokeBodyBytes: number;
  maxHeaderListBytes: number;
  maxConcurrentStreams: number;
  maxSessions: number;
  maxSessionsPerInstance: number;
  routingSeed?: number;
}

type Kind = "string" | "int" | "bool" | "duration";

export interface Setting {
  key: keyof ServeConfig;
  flag: string;
  env: string;
  kind: Kind;
  default?: string | number | boolean;
  choices?: string[];
  help: string;
}

const MiB = 1024 * 1024;

export const SETTINGS: Setting[] = [
  { key: "host", flag: "--host", env: "SLUICE_HOST", kind: "string", default: "127.0.0.1", help: "address to listen on" },
  { key: "port", flag: "--port", env: "SLUICE_PORT", kind: "int", default: 8443, help: "port for everything (0 picks a free one; the bound URL is the first line of output)" },
  { key: "dataDir", flag: "--data-dir", env: "SLUICE_DATA_DIR", kind: "string", default: ".sluice", help: "state (sluice.db), instance logs and generated credentials" },
  { key: "region", flag: "--region", env: "SLUICE_REGION", kind: "string", default: "us-east-1", help: "region in ARNs when a request is unsigned" },
  { key: "accountId", flag: "--account-id", env: "SLUICE_ACCOUNT_ID", kind: "string", default: "000000000000", help: "account id in ARNs" },
  { key: "tlsCert", flag: "--tls-cert", env: "SLUICE_TLS_CERT", kind: "string", help: "PEM certificate: serve TLS with ALPN h2 and http/1.1" },
  { key: "tlsKey", flag: "--tls-key", env: "SLUICE_TLS_KEY", kind: "string", help: "PEM private key for --tls-cert" },
  { key: "auth", flag: "--auth", env: "SLUICE_AUTH", kind: "string", default: "sigv4", choices: ["sigv4", "none"], help: "sigv4 verifies every request; none turns verification off (loudly)" },
  { key: "credentialsFile", flag: "--credentials-file", env: "SLUICE_CREDENTIALS_FILE", kind: "string", help: "AWS INI file of accepted keys (default <data-dir>/credentials; SIGHUP re-reads it)" },
  { key: "dockerHost", flag: "--docker-host", env: "DOCKER_HOST", kind: "string", help: "Docker Engine API socket for container images (unix:///path or a path)" },
  { key: "deployExamples", flag: "--deploy-examples", env: "SLUICE_DEPLOY_EXAMPLES", kind: "bool", default: false, help: "deploy the echo and transcribe example endpoints at start" },
  { key: "logLevel", flag: "--log-level", env: "SLUICE_LOG_LEVEL", kind: "string", default: "info", choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"], help: "log level (logs are JSON lines on stderr)" },
  { key: "instanceStartTimeoutMs", flag: "--instance-start-timeout", env: "SLUICE_INSTANCE_START_TIMEOUT", kind: "duration", default: 120_000, help: "how long a new instance may take to answer /ping, unless the variant sets ContainerStartupHealthCheckTimeoutInSeconds" },
  { key: "instanceStopGraceMs", flag: "--instance-stop-grace", env: "SLUICE_INSTANCE_STOP_GRACE", kind: "duration", default: 30_000, help: "SIGTERM to SIGKILL grace for instances that still answer" },
  { key: "pingIntervalMs", flag: "--ping-interval", env: "SLUICE_PING_INTERVAL", kind: "duration", default: 60_000, help: "WebSocket ping interval to the container" },
  { key: "maxMissedPongs", flag: "--max-missed-pongs", env: "SLUICE_MAX_MISSED_PONGS", kind: "int", default: 5, help: "unanswered pings in a row before the session ends (ModelInvocationTimeExceeded)" },
  { key: "probeIntervalMs", flag: "--probe-interval", env: "SLUICE_PROBE_INTERVAL", kind: "duration", default: 5_000, help: "how often each instance's /ping is polled" },
  { key: "probeFailureThreshold", flag: "--probe-failures", env: "SLUICE_PROBE_FAILURES", kind: "int", default: 3, help: "failed /ping polls in a row before an instance is replaced" },
  { key: "wsConnectTimeoutMs", flag: "--ws-connect-timeout", env: "SLUICE_WS_CONNECT_TIMEOUT", kind: "duration", default: 5_000, help: "WebSocket upgrade timeout to an instance" },
  { key: "instanceQuarantineMs", flag: "--instance-quarantine", env: "SLUICE_INSTANCE_QUARANTINE", kind: "duration", default: 10_000, help: "how long an instance whose upgrade failed stays out of rotation" },
  { key: "closeGraceMs", flag: "--close-grace", env: "SLUICE_CLOSE_GRACE", kind: "duration", default: 10_000, help: "after the client ends its input, how long the container may stay silent before Close 1000" },
  { key: "drainDeadlineMs", flag: "--drain-deadline", env: "SLUICE_DRAIN_DEADLINE", kind: "duration", default: 30_000, help: "how long sessions on a retiring instance (rollout, scale-in, delete, shutdown) may run" },
  { key: "idleTimeoutMs", flag: "--idle-timeout", env: "SLUICE_IDLE_TIMEOUT", kind: "duration", default: 0, help: "end a session after this long with no message either way (0: off)" },
  { key: "connectionIdleTimeoutMs", flag: "--connection-idle-timeout", env: "SLUICE_CONNECTION_IDLE_TIMEOUT", kind: "duration", default: 180_000, help: "close an HTTP/2 connection that has had no open stream for this long (0: never)" },
  { key: "connectionPingIntervalMs", flag: "--connection-ping-interval", env: "SLUICE_CONNECTION_PING_INTERVAL", kind: "duration", default: 30_000, help: "PING each HTTP/2 connection this often; one that leaves a PING unanswered for two intervals is closed (0: off)" },
  { key: "maxPayloadBytes", flag: "--max-payload-bytes", env: "SLUICE_MAX_PAYLOAD_BYTES", kind: "int", default: 16 * MiB, help: "largest PayloadPart and WebSocket message" },
  { key: "maxControlBodyBytes", flag: "--max-control-body-bytes", env: "SLUICE_MAX_CONTROL_BODY_BYTES", kind: "int", default: 1 * MiB, help: "largest control-plane request body (413 past it)" },
  { key: "maxInvokeBodyBytes", flag: "--max-invoke-body-bytes", env: "SLUICE_MAX_INVOKE_BODY_BYTES", kind: "int", default: 6 * MiB, help: "largest InvokeEndpoint body" },
  { key: "maxHeaderListBytes", flag: "--max-header-list-bytes", env: "SLUICE_MAX_HEADER_LIST_BYTES", kind: "int", default: 64 * 1024, help: "largest request header list" },
  { key: "maxConcurrentStreams", flag: "--max-concurrent-streams", env: "SLUICE_MAX_CONCURRENT_STREAMS", kind: "int", default: 1000, help: "concurrent streams per HTTP/2 connection (REFUSED_STREAM past it)" },
  { key: "maxSessions", flag: "--max-sessions", env: "SLUICE_MAX_SESSIONS", kind: "int", default: 10_000, help: "concurrent bidirectional sessions in total (503 past it)" },
  { key: "maxSessionsPerInstance", flag: "--max-sessions-per-instance", env: "SLUICE_MAX_SESSIONS_PER_INSTANCE", kind: "int", default: 1000, help: "concurrent sessions one instance accepts (503 when every instance of the variant is full)" },
  { key: "routingSeed", flag: "--routing-seed", env: "SLUICE_ROUTING_SEED", kind: "int", help: "seed for the weighted choice of variant, so a sequence of sessions routes the same way every run (default: unseeded)" },
];

/** Durations take `ms`, `s` or `m` suffixes; a bare number is milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 5s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  return Math.round(unit === "m" ? n * 60_000 : unit === "s" ? n * 1000 : n);
}

function parseValue(setting: Setting, raw: string): string | number | boolean {
  switch (setting.kind) {
    case "int": {
      if (!/^\d+$/.test(raw.trim())) throw new Error(`${setting.flag}: not a whole number: "${raw}"`);
      return Number(raw);
    }
    case "bool":
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error(`${setting.flag}: not a boolean: "${raw}"`);
    case "duration":
      try {
        return parseDuration(raw);
      } catch (err) {
        throw new Error(`${setting.flag}: ${(err as Error).message}`);
      }
    default:
      if (setting.choices && !setting.choices.includes(raw)) {
        throw new Error(`${setting.flag}: "${raw}" is not one of ${setting.choices.join(", ")}`);
      }
      return raw;
  }
}

/**
 * Resolves the configuration from parsed flags (raw strings, or true for boolean flags),
 * then the environment, then defaults.
 */
export function resolveConfig(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flagValue = flags[s.key];
    let value: unknown;
    if (flagValue !== undefined) value = typeof flagValue === "boolean" ? flagValue : parseValue(s, flagValue);
    else if (env[s.env] !== undefined && env[s.env] !== "") value = parseValue(s, env[s.env] as string);
    else value = s.default;
    if (value !== undefined) out[s.key] = value;
  }
  const config = out as unknown as ServeConfig;
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new Error("--tls-cert and --tls-key go together");
  }
  return config;
}
