// Keepalive towards the container, as SageMaker does it (protocol.md §4): a ping every interval,
// any pong clears the count, and `maxMissed` pings in a row left unanswered for a whole interval
// each mean the container is gone. While the session has stopped reading the container (the
// client is slow), a pong could not be seen even if sent, so those ticks neither ping nor count.

export interface HeartbeatOptions {
  intervalMs: number;
  maxMissed: number;
  ping(): void;
  /** True while pongs cannot be read. */
  suspended(): boolean;
  onTimeout(missed: number): void;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private missedCount = 0;
  private sent = 0;
  private received = 0;

  constructor(private readonly options: HeartbeatOptions) {}

  get missed(): number {
    return this.missedCount;
  }

  get pingsSent(): number {
    return this.sent;
  }

  get pongsReceived(): number {
    return this.received;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    // The socket keeps the process alive while the session runs; the heartbeat alone should not.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  pong(): void {
    this.received++;
    this.awaitingPong = false;
    this.missedCount = 0;
  }

  private tick(): void {
    // A tick already scheduled when stop() ran (or a timer implementation that re-arms an
    // interval cleared from its own callback) must do nothing.
    if (!this.timer || this.options.suspended()) return;
    if (this.awaitingPong) {
      this.missedCount++;
      if (this.missedCount >= this.options.maxMissed) {
        this.stop();
        this.options.onTimeout(this.missedCount);
        return;
      }
    }
    this.awaitingPong = true;
    this.sent++;
    this.options.ping();
  }
}
