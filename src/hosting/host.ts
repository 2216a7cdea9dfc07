// The one small contract every place instances can run behind (DESIGN §3, §7 "hono adapters"):
// a host starts an instance from a resolved model and hands back a handle; everything about
// health, routing and replacement lives above it.

/** The capability label SageMaker reads from the image (protocol.md §4). */
export const BIDI_CAPABILITY_LABEL = "com.amazonaws.sagemaker.capabilities.bidirectional-streaming";

export interface InstanceSpec {
  /** Unique for the life of the data dir, e.g. `echo-AllTraffic-3f9a2c`. */
  instanceId: string;
  endpointName: string;
  variantName: string;
  /** `CreateModel.PrimaryContainer.Image` as the user gave it. */
  image: string;
  /** Local path of `ModelDataUrl`, already resolved from a `file://` URL. */
  modelDataPath?: string;
  /** `PrimaryContainer.Environment`. */
  environment: Record<string, string>;
  instanceType?: string;
  /** Where the instance's stdout and stderr go. */
  logFile: string;
  /** Labels to attach where the host supports them (containers), tying the instance to this run. */
  labels?: Record<string, string>;
  /**
   * Called as soon as something exists that a later run of Sluice would have to reap (a process
   * right after it is spawned, a container right after it is created), before `start` resolves:
   * a crash while the instance is still starting must not leave an orphan nobody recorded.
   * May be called again (a retry on another port) with the newer record.
   */
  onSpawned?: (record: Omit<InstanceRecord, "instanceId">) => void;
}

export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Instance {
  readonly instanceId: string;
  /** The process serving (for containers: the container's main process as seen by the host, if known). */
  readonly pid?: number;
  readonly containerId?: string;
  /** Always a loopback address: Sluice never reaches instances through bridge addresses. */
  readonly host: string;
  readonly port: number;
  readonly startedAt: Date;
  /**
   * Epoch ms the process started as the kernel reports it (process hosts), to be stored as
   * `InstanceRecord.startTimeMs` so a later run can tell a recycled pid from this instance.
   */
  readonly startTimeMs?: number;
  readonly logFile: string;
  /** Settles once when the instance has gone, however it went. */
  readonly exited: Promise<InstanceExit>;
  /** SIGTERM, then SIGKILL after `graceMs` if it is still there; resolves when it has gone. */
  stop(graceMs: number): Promise<InstanceExit>;
  /** At once, for instances that no longer answer. */
  kill(): void;
}

/** What a host knows about an image before any instance runs. */
export interface ImageInfo {
  labels: Record<string, string>;
  /** The image as resolved (a digest for containers, a path for local models). */
  resolvedImage: string;
}

/** Leftovers of an earlier run, as recorded in the store when they started. */
export interface InstanceRecord {
  instanceId: string;
  pid?: number;
  /** Epoch ms the process started, to tell a recycled pid from ours. */
  startTimeMs?: number;
  containerId?: string;
}

export interface Host {
  readonly kind: "process" | "docker";
  /** Whether this host runs the given image reference. */
  handles(image: string): boolean;
  inspect(image: string): Promise<ImageInfo>;
  start(spec: InstanceSpec): Promise<Instance>;
  /** Kill whatever of these is still running from a previous run of Sluice. */
  reapLeftovers(records: InstanceRecord[]): Promise<void>;
}

export function isBidiCapable(info: ImageInfo): boolean {
  return info.labels[BIDI_CAPABILITY_LABEL] === "true";
}
