// The container host (DESIGN §1 "Models", §3 "Instances"): runs `PrimaryContainer.Image` values
// that are container image references through the Docker Engine API, as SageMaker runs them —
// `serve` as the argument, SAGEMAKER_BIND_TO_PORT inside (8080), `Environment` passed through,
// the model data read-only at /opt/ml/model — with the port published on 127.0.0.1 only. It
// talks nothing but the Engine API, so it runs unchanged on Podman's compat socket and on Docker.

import { randomBytes } from "node:crypto";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";
import type Docker from "dockerode";
import { AwsError } from "../protocol/aws-error.js";
import type { Host, ImageInfo, Instance, InstanceRecord, InstanceSpec } from "./host.js";
import { dockerClient, parseDockerHost } from "./docker-connection.js";
import { isContainerImageReference } from "./docker-image-ref.js";
import { ContainerInstance, isGoneError, statusCodeOf } from "./docker-instance.js";
import { memoryLimitBytes } from "./docker-instance-types.js";
import { containerLabels, LABEL_MANAGED, LABEL_OWNER, LABEL_RUN_ID, ownerFilter } from "./docker-labels.js";
import { freePort, type PortChooser } from "./free-port.js";

/** How engines report a host port taken between our choice and their bind. */
const PORT_TAKEN = /address already in use|port is already allocated|EADDRINUSE/i;

export { ownerForDataDir } from "./docker-labels.js";

/** Where SageMaker mounts the model artefacts inside a container. */
export const MODEL_DIR_IN_CONTAINER = "/opt/ml/model";
/** SageMaker's port inside the container. */
export const DEFAULT_CONTAINER_PORT = 8080;

export interface DockerHostOptions {
  /**
   * The engine: a socket path (`/run/podman/podman.sock`), a DOCKER_HOST-style string
   * (`unix:///…`, `tcp://host:port`), or a ready dockerode client (tests).
   */
  dockerHost: string | Docker;
  /**
   * Which Sluice installation this is (`ownerForDataDir(dataDir)`), carried as a label so that
   * reaping never touches the containers of another Sluice sharing the engine. Default "default".
   */
  owner?: string;
  /** This run of Sluice; a fresh random id by default. Containers of other runs are leftovers. */
  runId?: string;
  /** SAGEMAKER_BIND_TO_PORT inside the container. Default 8080. */
  containerPort?: number;
  /** Exact `InstanceType` → memory bytes, over the rule in docker-instance-types.ts. */
  memoryOverrides?: Record<string, number>;
  /** Limit for instance types the rule does not know (and for none given). Default: no limit. */
  defaultMemoryBytes?: number;
  /**
   * Pull an image that is not present locally before failing. Off by default: Sluice's own
   * machines have no registry, and a pull that can only fail makes the error slower and vaguer.
   */
  pullMissing?: boolean;
  /** Cap on each short Engine API request (inspect, create, start, kill). Default 30 s. */
  requestTimeoutMs?: number;
  /** After a container stopped, how long to wait for its last output to reach the log file. Default 2 s. */
  logDrainTimeoutMs?: number;
  /** Longest pause between retries of the wait API when its connection breaks. Default 5 s. */
  waitRetryMaxMs?: number;
  /** How long an unreachable engine may leave an instance's exit unknown before it counts as gone. Default 60 s. */
  engineLostTimeoutMs?: number;
  /** Problems with no caller to throw to (a failed log copy or removal); default: console.error. */
  onError?: (err: unknown, what: string) => void;
  /** Picks the 127.0.0.1 host port to publish (default: a free one); injectable for tests. */
  choosePort?: PortChooser;
  /** Ports tried when the chosen one is taken before the engine binds it. Default 5. */
  portAttempts?: number;
}

export class DockerHost implements Host {
  readonly kind = "docker" as const;
  readonly docker: Docker;
  readonly owner: string;
  readonly runId: string;
  /** How the engine was named, for messages. */
  readonly engineName: string;

  private readonly containerPort: number;
  private readonly options: DockerHostOptions;
  private readonly requestTimeoutMs: number;
  private readonly onError: (err: unknown, what: string) => void;

  constructor(options: DockerHostOptions) {
    this.options = options;
    if (typeof options.dockerHost === "string") {
      parseDockerHost(options.dockerHost); // fail at start-up on a malformed setting
      this.docker = dockerClient(options.dockerHost);
      this.engineName = options.dockerHost;
    } else {
      this.docker = options.dockerHost;
      this.engineName = "the configured Docker host";
    }
    this.owner = options.owner ?? "default";
    this.runId = options.runId ?? randomBytes(6).toString("hex");
    this.containerPort = options.containerPort ?? DEFAULT_CONTAINER_PORT;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.onError = options.onError ?? ((err, what) => console.error(`sluice docker host: ${what}:`, err));
  }

  /** Container image references; not `sluice/…`, paths or `file://` URLs (the process host's). */
  handles(image: string): boolean {
    return isContainerImageReference(image);
  }

  /** The image's labels (the bidi capability among them), from the local engine. */
  async inspect(image: string): Promise<ImageInfo> {
    const info = await this.inspectImage(image);
    return { labels: info.Config?.Labels ?? {}, resolvedImage: info.Id };
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const image = await this.inspectImage(spec.image);
    await mkdir(dirname(spec.logFile), { recursive: true });
    if (spec.modelDataPath !== undefined && !isAbsolute(spec.modelDataPath)) {
      throw new AwsError("ValidationException", 400, `ModelDataUrl must resolve to an absolute local path, got ${spec.modelDataPath}`);
    }

    const portKey = `${this.containerPort}/tcp`;
    const memory = memoryLimitBytes(spec.instanceType, { overrides: this.options.memoryOverrides, defaultBytes: this.options.defaultMemoryBytes });
    // Precedence as for processes (DESIGN §1): Environment, then what Sluice must set.
    const env: Record<string, string> = {
      ...spec.environment,
      SAGEMAKER_BIND_TO_PORT: String(this.containerPort),
      SLUICE_INSTANCE_ID: spec.instanceId,
    };
    if (spec.modelDataPath !== undefined) env.SM_MODEL_DIR = MODEL_DIR_IN_CONTAINER;

    const create: Docker.ContainerCreateOptions = {
      name: containerName(spec.instanceId),
      // The image as inspected, by id: a tag moved mid-rollout cannot mix two images in one variant.
      Image: image.Id,
      Cmd: ["serve"],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: containerLabels(
        { owner: this.owner, runId: this.runId, endpointName: spec.endpointName, variantName: spec.variantName, instanceId: spec.instanceId },
        { ...spec.labels, "io.sluice.image": spec.image },
      ),
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        // Loopback only, on the port chosen in start(): Sluice never reaches containers by bridge
        // addresses, and nothing else on the network reaches them at all.
        PortBindings: {},
        // Mounts rather than Binds: a path with a colon in it cannot be said in Binds' syntax.
        Mounts: spec.modelDataPath !== undefined ? [{ Type: "bind", Source: spec.modelDataPath, Target: MODEL_DIR_IN_CONTAINER, ReadOnly: true }] : [],
        ...(memory !== undefined ? { Memory: memory, MemorySwap: memory } : {}),
        // Sluice replaces failed instances itself; an engine restart policy would race it.
        RestartPolicy: { Name: "no" },
      },
    };

    // The port is ours to choose, as for processes: a port taken between the choice and the
    // engine's bind is retried on another, not reported as a failed instance.
    const attempts = this.options.portAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const port = await (this.options.choosePort ?? freePort)();
      create.HostConfig!.PortBindings = { [portKey]: [{ HostIp: "127.0.0.1", HostPort: String(port) }] };
      try {
        return await this.createAndStart(spec, image, create, portKey);
      } catch (err) {
        if (attempt >= attempts || !PORT_TAKEN.test((err as Error).message)) throw err;
      }
    }
  }

  private async createAndStart(
    spec: InstanceSpec,
    image: Docker.ImageInspectInfo,
    create: Docker.ContainerCreateOptions,
    portKey: string,
  ): Promise<Instance> {
    let container: Docker.Container;
    try {
      container = await this.createContainer(create);
    } catch (err) {
      throw this.engineError(err, `could not create a container for ${spec.image}`);
    }
    spec.onSpawned?.({ containerId: container.id });
    try {
      // Same first line as the process host writes, so a FailureReason reads alike for both.
      await appendFile(
        spec.logFile,
        `[sluice] ${new Date().toISOString()} starting instance ${spec.instanceId} in container ${container.id.slice(0, 12)}: ${spec.image} serve\n`,
      );
      await this.request(`starting container ${container.id}`, container.start());
      const info = await this.request(`inspecting container ${container.id}`, container.inspect());
      // Only a loopback binding counts: an engine that ignored HostIp would have exposed the
      // model to the network, and that container is removed below rather than used.
      const hostPort = Number(info.NetworkSettings?.Ports?.[portKey]?.find((b) => b.HostIp === "127.0.0.1")?.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) {
        throw new Error(`the engine published no 127.0.0.1 port for ${portKey}: ${JSON.stringify(info.NetworkSettings?.Ports?.[portKey] ?? null)}`);
      }
      return new ContainerInstance({
        container,
        instanceId: spec.instanceId,
        containerId: container.id,
        host: "127.0.0.1",
        port: hostPort,
        pid: info.State?.Pid > 0 ? info.State.Pid : undefined,
        startedAt: new Date(),
        logFile: spec.logFile,
        // Not in @types/dockerode's image Config, but the Engine API reports it.
        stopSignal: (image.Config as { StopSignal?: string } | undefined)?.StopSignal || "SIGTERM",
        logDrainTimeoutMs: this.options.logDrainTimeoutMs ?? 2_000,
        waitRetryMaxMs: this.options.waitRetryMaxMs ?? 5_000,
        engineLostTimeoutMs: this.options.engineLostTimeoutMs ?? 60_000,
        onError: this.onError,
      });
    } catch (err) {
      // Never leave a half-started container behind: it would hold a port and a name.
      await container.remove({ force: true, v: true }).catch((e: unknown) => {
        if (!isGoneError(e)) this.onError(e, `removing container ${container.id} after a failed start`);
      });
      throw this.engineError(err, `could not start a container from ${spec.image}`);
    }
  }

  /**
   * Removes every container of this owner from other runs, found by label on the engine (a
   * record may be missing after a crash), and any recorded container still present.
   */
  async reapLeftovers(records: InstanceRecord[]): Promise<void> {
    const listed = await this.request("listing Sluice's containers", this.docker.listContainers({ all: true, filters: ownerFilter(this.owner) })).catch((err: unknown) => {
      throw this.engineError(err, "could not list the containers of an earlier run");
    });
    const ids = new Set(listed.filter((c) => c.Labels?.[LABEL_RUN_ID] !== this.runId).map((c) => c.Id));
    for (const r of records) if (r.containerId) ids.add(r.containerId);
    const failures: string[] = [];
    await Promise.all(
      [...ids].map(async (id) => {
        try {
          await this.request(`removing container ${id}`, this.docker.getContainer(id).remove({ force: true, v: true }));
        } catch (err) {
          if (!isGoneError(err)) failures.push(`${id.slice(0, 12)}: ${(err as Error).message}`);
        }
      }),
    );
    if (failures.length > 0) throw new AwsError("InternalFailure", 500, `could not remove containers of an earlier run: ${failures.join("; ")}`);
  }

  /**
   * Creates the container. A name already taken by a container of this owner from another run
   * (a leftover reaping has not reached yet) is freed and the create retried once; a name held by
   * anything else is an error rather than something to remove.
   */
  private async createContainer(create: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const name = create.name!;
    try {
      return await this.request(`creating container ${name}`, this.docker.createContainer(create));
    } catch (err) {
      // Docker answers 409; Podman 4.3 answers 500 "… is already in use".
      if (statusCodeOf(err) !== 409 && !/already in use/i.test(String((err as Error)?.message))) throw err;
      const existing = await this.request(`inspecting container ${name}`, this.docker.getContainer(name).inspect());
      const labels = existing.Config?.Labels ?? {};
      if (labels[LABEL_MANAGED] !== "true" || labels[LABEL_OWNER] !== this.owner || labels[LABEL_RUN_ID] === this.runId) {
        throw new AwsError("InternalFailure", 500, `a container named ${name} already exists and is not a leftover of an earlier run of this Sluice`, { cause: err });
      }
      await this.request(`removing leftover container ${name}`, this.docker.getContainer(existing.Id).remove({ force: true, v: true }));
      return await this.request(`creating container ${name}`, this.docker.createContainer(create));
    }
  }

  private async inspectImage(image: string): Promise<Docker.ImageInspectInfo> {
    try {
      return await this.request(`inspecting image ${image}`, this.docker.getImage(image).inspect());
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw this.engineError(err, `could not inspect image ${image}`);
      if (this.options.pullMissing) {
        try {
          await this.pull(image);
          return await this.request(`inspecting image ${image}`, this.docker.getImage(image).inspect());
        } catch (pullErr) {
          throw missingImage(image, this.engineName, `pulling it failed: ${(pullErr as Error).message}`);
        }
      }
      throw missingImage(image, this.engineName, "Sluice does not pull images unless pulling is enabled");
    }
  }

  private async pull(image: string): Promise<void> {
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
        const failed = err ?? events.find((e) => e.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(failed.error));
        else resolve();
      }),
    );
  }

  /** A request with the configured cap, so a wedged engine fails the caller instead of hanging it. */
  private request<T>(what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer from ${this.engineName} within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Engine failures as AWS errors a user can act on. */
  private engineError(err: unknown, what: string): AwsError {
    if (err instanceof AwsError) return err;
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES") {
      return new AwsError(
        "ServiceUnavailable",
        503,
        `${what}: the Docker Engine API at ${this.engineName} is not reachable (${code}); start it (e.g. podman system service --time=0 unix:///run/podman/podman.sock) or fix --docker-host / DOCKER_HOST`,
        { cause: err },
      );
    }
    const message = (err as { json?: { message?: string } })?.json?.message ?? (err as Error)?.message ?? String(err);
    return new AwsError("InternalFailure", 500, `${what}: ${message}`, { cause: err });
  }
}

/** A Docker host on the engine named by a socket path or DOCKER_HOST-style string. */
export function createDockerHost(dockerHost: string, options: Omit<DockerHostOptions, "dockerHost"> = {}): DockerHost {
  return new DockerHost({ ...options, dockerHost });
}

/** The container name: readable in `podman ps`, unique as instance ids are. */
export function containerName(instanceId: string): string {
  return `sluice-${instanceId}`.replace(/[^a-zA-Z0-9_.-]/g, "-");
}

function missingImage(image: string, engine: string, detail: string): AwsError {
  return new AwsError(
    "ValidationException",
    400,
    `Image ${image} is not present on the container engine (${engine}): build it there (npm run images for the bundled models, or podman build -t ${image} <dir>) or load it (podman load -i <image.tar>); ${detail}.`,
  );
}
