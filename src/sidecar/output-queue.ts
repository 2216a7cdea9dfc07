// Container messages → the runtime, in order, with the runtime's backpressure. When
// `output.part()` says stop, the session stops reading the container; parts the WebSocket had
// already parsed from the same TCP chunk wait here (so this holds at most one read's worth),
// and the end of the session waits behind them: an error always follows every part before it.
import type { PayloadPart, StreamError } from "../protocol/events.js";

/** What the runtime implements for each session: where the container's side goes. */
export interface SessionOutput {
  /**
   * One part for the client. Return false to stop: no further part (nor `end`) comes until the
   * runtime calls `session.resumeOutput()`.
   */
  part(part: PayloadPart): boolean;
  /** Called exactly once per session, after every part; `error` absent means a clean end. */
  end(error?: StreamError): void;
}

export interface OutputQueueHooks {
  /** The runtime said stop: stop reading the container. */
  pause(): void;
  /** Everything queued went out after a pause: read the container again. */
  resume(): void;
}

export class OutputQueue {
  private queue: PayloadPart[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  /** The container is not being read because of a pause not yet undone. */
  private readingStopped = false;
  private flushing = false;
  private endPending = false;
  private endError: StreamError | undefined;
  private ended = false;
  /** Set by abort(), possibly from inside `output.part()`: its answer no longer matters. */
  private aborted = false;

  /** With `held`, the queue starts paused (reading stopped) until the first `resume()`. */
  constructor(
    private readonly output: SessionOutput,
    private readonly hooks: OutputQueueHooks,
    held = false,
  ) {
    this.paused = held;
    this.readingStopped = held;
  }

  /** Bytes of parts waiting for the runtime to resume. */
  get queuedBytes(): number {
    return this.bytes;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** True once `output.end` has been called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** True once the end is decided (it may still wait behind queued parts). */
  get isFinishing(): boolean {
    return this.endPending || this.ended;
  }

  push(part: PayloadPart): void {
    if (this.endPending || this.ended) return;
    this.queue.push(part);
    this.bytes += part.Bytes.byteLength;
    this.flush();
  }

  /** Ends the output after everything queued; the first call decides the outcome. */
  finish(error?: StreamError): void {
    if (this.endPending || this.ended) return;
    this.endPending = true;
    this.endError = error;
    this.flush();
  }

  /** Drops whatever is queued and ends at once (the client is gone, nobody reads it). */
  abort(error?: StreamError): void {
    if (this.ended) return;
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    if (!this.endPending) this.endError = error;
    this.endPending = true;
    this.aborted = true;
    this.paused = false;
    this.flush();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  }

  private flush(): void {
    // `output.part()` may call back into the session (resumeOutput, cancel); the running loop
    // picks up whatever those change.
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (!this.paused && this.head < this.queue.length) {
        const part = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as PayloadPart;
        this.bytes -= part.Bytes.byteLength;
        if (!this.output.part(part) && !this.aborted) {
          this.paused = true;
          if (!this.readingStopped) {
            this.readingStopped = true;
            this.hooks.pause();
          }
        }
      }
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.paused) return;
      if (this.endPending && !this.ended) {
        this.ended = true;
        this.output.end(this.endError);
      } else if (!this.ended && this.readingStopped) {
        this.readingStopped = false;
        this.hooks.resume();
      }
    } finally {
      this.flushing = false;
    }
  }
}
