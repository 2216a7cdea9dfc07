// Every knob of the model process, from the environment (README "Settings"). Invalid values
// stop the process at start-up with a message naming the variable.
import { DEFAULT_MODEL_DIR } from "./pocketsphinx-recogniser.js";
import type { SessionSettings } from "./listen-session.js";

export interface ModelSettings {
  host: string;
  /** Decode each session's first utterance again once the channel normalisation has adapted. */
  redecodeFirstUtterance: boolean;
  port: number;
  poolSize: number;
  modelDir: string;
  logLevel: string;
  /** Largest WebSocket message accepted (bytes); the announcement's sample sends 512 KB. */
  maxMessageBytes: number;
  /** On SIGTERM, how long open sessions may finish before they are closed with 1001. */
  shutdownGraceMs: number;
  session: SessionSettings;
}

function boolFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new Error(`${name} must be true or false, not '${raw}'`);
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, not '${raw}'`);
  return n;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ModelSettings {
  return {
    // SageMaker's container contract: every interface, port from SAGEMAKER_BIND_TO_PORT. Sluice's
    // process host sets SLUICE_BIND_HOST=127.0.0.1 (as for every model built on src/container).
    host: env.SLUICE_BIND_HOST || "0.0.0.0",
    redecodeFirstUtterance: boolFrom(env, "TRANSCRIBE_REDECODE_FIRST_UTTERANCE", true),
    port: intFrom(env, "SAGEMAKER_BIND_TO_PORT", 8080, 0),
    poolSize: intFrom(env, "TRANSCRIBE_POOL_SIZE", 2, 1),
    modelDir: env.TRANSCRIBE_MODEL_DIR || DEFAULT_MODEL_DIR,
    logLevel: env.TRANSCRIBE_LOG_LEVEL || "info",
    maxMessageBytes: intFrom(env, "TRANSCRIBE_MAX_MESSAGE_BYTES", 16 * 1024 * 1024, 1024),
    shutdownGraceMs: intFrom(env, "TRANSCRIBE_SHUTDOWN_GRACE_MS", 5_000, 0),
    session: {
      idleTimeoutMs: intFrom(env, "TRANSCRIBE_IDLE_TIMEOUT_MS", 10_000, 1),
      maxBacklogSeconds: intFrom(env, "TRANSCRIBE_MAX_BACKLOG_SECONDS", 300, 1),
      transcriber: {
        chunkMs: intFrom(env, "TRANSCRIBE_CHUNK_MS", 100, 10),
        interimIntervalMs: intFrom(env, "TRANSCRIBE_INTERIM_INTERVAL_MS", 500, 10),
        minEndpointingMs: intFrom(env, "TRANSCRIBE_MIN_ENDPOINTING_MS", 500, 0),
        maxUtteranceMs: intFrom(env, "TRANSCRIBE_MAX_UTTERANCE_MS", 15_000, 1000),
      },
    },
  };
}
