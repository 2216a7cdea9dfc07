// The process host: runs `sluice/*` models and local model directories as local processes
// (DESIGN §1 "Models", §3 "Instances"). Each instance is spawned detached in its own process
// group on its own port, with its output appended to its log file, and its pid and kernel start
// time recorded so a later run can reap exactly its leftovers.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AwsError } from "../protocol/aws-error.js";
import type { Host, ImageInfo, Instance, InstanceRecord, InstanceSpec } from "./host.js";
import { freePort, type PortChooser } from "./free-port.js";
import { ModelResolver, type ResolvedModel } from "./model-resolver.js";
import { groupListensOn } from "./port-listener.js";
import { ProcessInstance } from "./process-instance.js";
import { isAlive, processStartTimeMs, readProcStat } from "./process-start-time.js";

/** What a model printed when the port it was given had been taken (Node, Python, Go, Rust…). */
const PORT_TAKEN = /EADDRINUSE|address already in use/i;

/** Variables a local process inherits from Sluice; everything else (credentials above all) stays out. */
const INHERITED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SHELL"];

export interface ProcessHostOptions {
  resolver?: ModelResolver;
  /** Picks each instance's port; the default asks the kernel for a free one. */
  choosePort?: PortChooser;
  /** How many ports to try when the chosen one turns out to be taken (default 5). */
  portAttempts?: number;
  /**
   * How long `start` waits for the instance to listen on its port, so that a port taken
   * meanwhile is retried rather than reported as a crash (default 10 s). After that `start`
   * resolves anyway: a slow model is the health prober's business, not the host's.
   */
  bindTimeoutMs?: number;
  /** How often `start` looks for the instance's listening socket (default 25 ms). */
  bindPollMs?: number;
  /** How far a recorded start time may be from the kernel's and still be ours (default 2 s). */
  startTimeToleranceMs?: number;
  /** How long `reapLeftovers` waits for killed leftovers to be gone (default 5 s). */
  reapWaitMs?: number;
  /** The environment every instance starts from; default: PATH, HOME, locale and a few more of Sluice's. */
  baseEnv?: Record<string, string>;
}

export class ProcessHost implements Host {
  readonly kind = "process" as const;
  private readonly resolver: ModelResolver;
  private readonly choosePort: PortChooser;
  private readonly portAttempts: number;
  private readonly bindTimeoutMs: number;
  private readonly bindPollMs: number;
  private readonly startTimeToleranceMs: number;
  private readonly reapWaitMs: number;
  private readonly baseEnv: Record<string, string>;
  /** Ports of this host's live (or starting) instances, never handed out twice. */
  private readonly portsInUse = new Set<number>();

  constructor(options: ProcessHostOptions = {}) {
    this.resolver = options.resolver ?? new ModelResolver();
    this.choosePort = options.choosePort ?? (() => freePort());
    this.portAttempts = options.portAttempts ?? 5;
    this.bindTimeoutMs = options.bindTimeoutMs ?? 10_000;
    this.bindPollMs = options.bindPollMs ?? 25;
    this.startTimeToleranceMs = options.startTimeToleranceMs ?? 2_000;
    this.reapWaitMs = options.reapWaitMs ?? 5_000;
    this.baseEnv = options.baseEnv ?? inheritedEnv();
  }

  handles(image: string): boolean {
    return this.resolver.handles(image);
  }

  async inspect(image: string): Promise<ImageInfo> {
    const model = await this.resolver.resolve(image);
    return { labels: model.labels, resolvedImage: model.resolvedImage };
  }

  /**
   * Resolves once the instance listens on its port, or has exited (its `exited` then tells how),
   * or after `bindTimeoutMs`. Throws if the model cannot be resolved or its program not started.
   */
  async start(spec: InstanceSpec): Promise<Instance> {
    const model = await this.resolver.resolve(spec.image);
    if (spec.modelDataPath !== undefined && (await stat(spec.modelDataPath).catch(() => undefined)) === undefined) {
      // SageMaker fails the same way when it cannot fetch ModelDataUrl; better than a model
      // starting with SM_MODEL_DIR pointing at nothing.
      throw new AwsError("ValidationException", 400, `Model data ${spec.modelDataPath} does not exist`);
    }
    await mkdir(dirname(spec.logFile), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const port = await this.nextPort();
      this.portsInUse.add(port);
      let launched: Launched;
      try {
        launched = await this.launch(spec, model, port);
      } catch (err) {
        this.portsInUse.delete(port);
        throw err;
      }
      const { instance, logOffset } = launched;
      void instance.exited.then(() => this.portsInUse.delete(port));
      const outcome = await this.awaitListening(instance);
      if (outcome !== "exited" || attempt >= this.portAttempts) return instance;
      await instance.exited;
      if (!(await portWasTaken(spec.logFile, logOffset))) return instance;
      // Not a crash: someone took the port between our choosing it and the instance binding it.
    }
  }

  async reapLeftovers(records: InstanceRecord[]): Promise<void> {
    const killed: number[] = [];
    for (const record of records) {
      if (record.pid === undefined || record.startTimeMs === undefined) continue;
      const stat = readProcStat(record.pid);
      const startTimeMs = processStartTimeMs(record.pid);
      // Gone, or the pid now belongs to a process that started at another time: not ours.
      if (stat === undefined || startTimeMs === undefined || !isAlive(record.pid)) continue;
      if (Math.abs(startTimeMs - record.startTimeMs) > this.startTimeToleranceMs) continue;
      // We spawned it detached, so it leads its own group, and the group is the instance. A
      // record is only data, though: if it leads none, kill just the process we know is ours.
      const target = stat.pgrp === record.pid ? -record.pid : record.pid;
      try {
        process.kill(target, "SIGKILL");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
      killed.push(record.pid);
    }
    // Wait until they are gone so that their ports and files are free for the instances that
    // replace them; a process that outlives SIGKILL this long is stuck in the kernel anyway.
    const deadline = sleep(this.reapWaitMs, "timeout" as const, { ref: false });
    for (const pid of killed) {
      while (isAlive(pid)) {
        if ((await Promise.race([sleep(this.bindPollMs, "poll" as const), deadline])) === "timeout") return;
      }
    }
  }

  private async nextPort(): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const port = await this.choosePort();
      if (!this.portsInUse.has(port)) return port;
    }
    throw new Error("the port chooser keeps handing out ports of running instances");
  }

  private async launch(spec: InstanceSpec, model: ResolvedModel, port: number): Promise<Launched> {
    const [program, ...args] = model.command;
    const argv = [...args, "serve"]; // as `docker run IMAGE serve`
    const env: Record<string, string> = {
      ...this.baseEnv,
      // Models built on sluice/container bind here; Sluice reaches instances only on loopback.
      SLUICE_BIND_HOST: "127.0.0.1",
      // Output goes to a file; unbuffered, a Python model's last words reach the log before it dies.
      PYTHONUNBUFFERED: "1",
      ...model.env,
      ...spec.environment,
      SAGEMAKER_BIND_TO_PORT: String(port),
      SLUICE_INSTANCE_ID: spec.instanceId,
      ...(spec.modelDataPath === undefined ? {} : { SM_MODEL_DIR: spec.modelDataPath }),
    };
    const log = await open(spec.logFile, "a");
    try {
      const logOffset = (await log.stat()).size;
      await log.write(
        `[sluice] ${new Date().toISOString()} starting instance ${spec.instanceId} on port ${port}: ` +
          `${[program, ...argv].join(" ")} (in ${model.cwd})\n`,
      );
      const startedAt = new Date();
      const child = spawn(program, argv, {
        cwd: model.cwd,
        env,
        // Its own process group: signals reach the whole instance, and Ctrl-C in Sluice's
        // terminal does not hit instances behind Sluice's back.
        detached: true,
        stdio: ["ignore", log.fd, log.fd],
      });
      const pid = child.pid;
      if (pid === undefined) {
        const [err] = (await once(child, "error")) as [Error];
        const message = `Instance ${spec.instanceId} could not start ${program} in ${model.cwd}: ${err.message}`;
        await log.write(`[sluice] ${message}\n`);
        throw new AwsError("ValidationException", 400, message, { cause: err });
      }
      // Built before anything else is awaited, so that an instance dying at once is still seen
      // exiting. Its start time is set at fork and kept across exec, so it can be read now.
      const instance = new ProcessInstance({
        instanceId: spec.instanceId,
        child,
        pid,
        port,
        startedAt,
        startTimeMs: processStartTimeMs(pid),
        logFile: spec.logFile,
      });
      spec.onSpawned?.({ pid, startTimeMs: instance.startTimeMs });
      return { instance, logOffset };
    } finally {
      // The child has its own copy of the descriptor.
      await log.close();
    }
  }

  private async awaitListening(instance: ProcessInstance): Promise<"listening" | "exited" | "timeout"> {
    const exited = instance.exited.then(() => "exited" as const);
    const timeout = sleep(this.bindTimeoutMs, "timeout" as const, { ref: false });
    for (;;) {
      const owned = await groupListensOn(instance.pid, instance.port);
      if (instance.hasExited) return "exited";
      if (owned === true) return "listening";
      // Without the kernel's tables, a connection that succeeds is the best sign there is.
      if (owned === undefined && (await accepts(instance.host, instance.port))) return "listening";
      const next = await Promise.race([exited, timeout, sleep(this.bindPollMs, "poll" as const)]);
      if (next !== "poll") return next;
    }
  }
}

interface Launched {
  instance: ProcessInstance;
  /** Where this attempt's output starts in the log file. */
  logOffset: number;
}

async function portWasTaken(logFile: string, offset: number): Promise<boolean> {
  const text = await readFile(logFile).then(
    (data) => data.subarray(offset).toString("utf8"),
    () => "",
  );
  return PORT_TAKEN.test(text);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && (INHERITED_ENV.includes(name) || name.startsWith("LC_"))) env[name] = value;
  }
  return env;
}
