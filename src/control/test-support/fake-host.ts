// A Host for control-plane tests that runs each "instance" as an HTTP server inside the test
// process: fast, and every behaviour a test needs (healthy, never ready, crashing, dying later)
// is one image name away. Reconciler tests against real processes use hosting/process.ts.

import { once } from "node:events";
import { appendFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import type { Host, ImageInfo, Instance, InstanceExit, InstanceRecord, InstanceSpec } from "../../hosting/host.js";
import { BIDI_CAPABILITY_LABEL } from "../../hosting/host.js";

/**
 * Images: `sluice/echo` and anything else answer /ping 200; `fake/never-ready` answers 503;
 * `fake/crash` exits at once after logging; `fake/plain` lacks the bidi label.
 */
export class FakeHost implements Host {
  readonly kind = "process" as const;
  readonly started: FakeInstance[] = [];
  readonly reaped: InstanceRecord[][] = [];
  /** While true, instances started get a /ping that answers 503 for good (a model still loading). */
  hold = false;

  handles(image: string): boolean {
    return ["sluice/", "fake/", "/", "file://", "./"].some((p) => image.startsWith(p));
  }

  async inspect(image: string): Promise<ImageInfo> {
    if (image.includes("missing")) throw new Error(`model directory ${image} has no sluice-model.json`);
    return {
      labels: image === "fake/plain" ? {} : { [BIDI_CAPABILITY_LABEL]: "true" },
      resolvedImage: `resolved:${image}`,
    };
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    appendFileSync(spec.logFile, `starting ${spec.instanceId}\n`);
    const instance = await FakeInstance.start(spec, this.hold);
    this.started.push(instance);
    return instance;
  }

  async reapLeftovers(records: InstanceRecord[]): Promise<void> {
    this.reaped.push(records);
  }

  running(): FakeInstance[] {
    return this.started.filter((i) => !i.hasExited);
  }
}

export class FakeInstance implements Instance {
  readonly instanceId: string;
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly startedAt = new Date();
  readonly logFile: string;
  readonly exited: Promise<InstanceExit>;
  readonly spec: InstanceSpec;
  hasExited = false;
  stopCalls = 0;
  /** Set to make /ping fail from now on. */
  unhealthy = false;
  private resolveExit!: (exit: InstanceExit) => void;

  private constructor(
    spec: InstanceSpec,
    private readonly server: Server,
  ) {
    this.spec = spec;
    this.instanceId = spec.instanceId;
    this.logFile = spec.logFile;
    this.port = (server.address() as AddressInfo).port;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  static async start(spec: InstanceSpec, held = false): Promise<FakeInstance> {
    let self: FakeInstance | undefined;
    const server = createServer((req, res) => {
      const ok = spec.image !== "fake/never-ready" && self?.unhealthy !== true && !held;
      res.writeHead(req.url === "/ping" && ok ? 200 : 503).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    self = new FakeInstance(spec, server);
    if (spec.image === "fake/crash") {
      appendFileSync(spec.logFile, "Traceback: ModuleNotFoundError: no module named torch\n");
      setImmediate(() => self!.exit({ code: 1, signal: null }));
    }
    return self;
  }

  exit(exit: InstanceExit): void {
    if (this.hasExited) return;
    this.hasExited = true;
    this.server.closeAllConnections();
    this.server.close();
    this.resolveExit(exit);
  }

  stop(_graceMs: number): Promise<InstanceExit> {
    this.stopCalls++;
    this.exit({ code: null, signal: "SIGTERM" });
    return this.exited;
  }

  kill(): void {
    this.exit({ code: null, signal: "SIGKILL" });
  }
}
