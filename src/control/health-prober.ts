// The one owner of instance health after startup (DESIGN §3): every `intervalMs` it sends each
// running instance `GET /ping` (with `timeoutMs`) and reports the result. What a failure means
// (out of rotation, killed and replaced after N in a row, backoff) is the sink's business, so the
// policy sits with the rest of the instance lifecycle in the reconciler.

import { ping, type PingResult } from "./ping.js";

export interface ProbeTarget {
  instanceId: string;
  host: string;
  port: number;
}

export interface ProbeSink {
  probeTargets(): ProbeTarget[];
  probeResult(instanceId: string, result: PingResult): void;
}

export interface HealthProberOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Replaceable for tests. */
  probe?: (host: string, port: number, timeoutMs: number) => Promise<PingResult>;
}

export class HealthProber {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> | undefined;

  constructor(
    private readonly sink: ProbeSink,
    private readonly options: HealthProberOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One round now (tests, and after a change that should not wait a whole interval). */
  async probeOnce(): Promise<void> {
    const probe = this.options.probe ?? ping;
    const targets = this.sink.probeTargets();
    await Promise.all(
      targets.map(async (t) => {
        const result = await probe(t.host, t.port, this.options.timeoutMs);
        if (this.running) this.sink.probeResult(t.instanceId, result);
      }),
    );
  }

  private schedule(): void {
    if (!this.running) return;
    // A chain of timeouts, not an interval: a slow round never overlaps the next.
    this.timer = setTimeout(() => {
      this.round = this.probeOnce().finally(() => {
        this.round = undefined;
        this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
