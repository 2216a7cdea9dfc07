// One bidi session's bridge between the runtime and the container's WebSocket (DESIGN §2
// steps 4–7): client parts become frames (input-framer), container messages become parts
// (output-queue), a heartbeat watches the container, and every way the session can end
// reaches `output.end` exactly once, after everything the container sent before it.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type WebSocket from "ws";
import type { PayloadPart, StreamError } from "../protocol/events.js";
import { closeReason, streamErrorForClosure } from "./close-mapping.js";
import { connect, whenOpen } from "./dial.js";
import { Heartbeat } from "./heartbeat.js";
import { InputFramer } from "./input-framer.js";
import { resolveOptions, type ResolvedSidecarOptions, type SidecarOptions } from "./options.js";
import { OutputQueue, type SessionOutput } from "./output-queue.js";

export interface SessionStats {
  /** Whole messages sent to the container (a PARTIAL run counts once). */
  messagesToModel: number;
  bytesToModel: number;
  messagesFromModel: number;
  bytesFromModel: number;
  pingsSent: number;
  pongsReceived: number;
  /** Pings in a row still unanswered. */
  missedPongs: number;
}

/** How a session ended, for logs and metrics; settles once the socket is gone and `output.end` was called. */
export interface SessionSummary {
  /** What `output.end` received (absent: clean end, or a cancel). */
  error: StreamError | undefined;
  /** Who ended it. */
  endedBy: "model" | "grace" | "client" | "cancel" | "heartbeat" | "drain" | "idle" | "output";
  /** Detail that must not reach the client but helps an operator (never payload bytes). */
  detail: string | undefined;
  /** The WebSocket close as the sidecar saw it: 1006 if no close frame came. */
  closeCode: number;
  closeReason: string;
  stats: SessionStats;
}

type Outcome = { error: StreamError | undefined; endedBy: SessionSummary["endedBy"]; detail?: string };

export interface SidecarSessionEvents {
  /** `write()` returned false earlier and the container's side has room again. */
  drain: [];
}

/**
 * Dials the container and resolves once its WebSocket is open; rejects with a DialError
 * otherwise (bad options reject with a TypeError or RangeError). `output` is called only if
 * this resolves, and not before the promise has resolved.
 */
export async function openSession(options: SidecarOptions, output: SessionOutput): Promise<SidecarSession> {
  const resolved = resolveOptions(options);
  const ws = connect(resolved);
  const session = new SidecarSession(ws, resolved, output);
  await whenOpen(ws, resolved);
  // Nothing reaches `output` until the caller holds the session: the first read of the
  // container waits a turn of the event loop, after every continuation of this promise.
  setImmediate(() => session.start());
  return session;
}

export class SidecarSession extends EventEmitter<SidecarSessionEvents> {
  private readonly framer: InputFramer;
  private readonly queue: OutputQueue;
  private readonly heartbeat: Heartbeat;
  private readonly counts = { messagesToModel: 0, bytesToModel: 0, messagesFromModel: 0, bytesFromModel: 0 };
  private opened = false;
  private started = false;
  private inputEnded = false;
  /** The end is decided; the first decision wins. */
  private outcome: Outcome | undefined;
  /** Set when an error was decided: what the container sends afterwards is not forwarded. */
  private discarding = false;
  private needDrain = false;
  private corked = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastError: (Error & { code?: string }) | undefined;
  private socketClosed: { code: number; reason: string } | undefined;
  private resolveClosed!: (summary: SessionSummary) => void;
  private outputFailure: string | undefined;

  /** Settles (never rejects) when the WebSocket is closed and `output.end` has been called. */
  readonly closed: Promise<SessionSummary>;

  /** @internal Use `openSession`. */
  constructor(
    private readonly ws: WebSocket,
    private readonly options: ResolvedSidecarOptions,
    output: SessionOutput,
  ) {
    super();
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.framer = new InputFramer(options.maxPayloadBytes);
    this.queue = new OutputQueue(
      {
        // A throwing runtime callback would otherwise surface inside ws's socket handler and
        // take every session of the process down with it; it ends this session only.
        part: (part) => {
          try {
            return output.part(part);
          } catch (err) {
            this.outputThrew("part", err);
            return false;
          }
        },
        end: (error) => {
          try {
            output.end(error);
          } catch (err) {
            this.outputFailure ??= `output.end() threw: ${describe(err)}`;
          }
          this.settleIfDone();
        },
      },
      { pause: () => this.ws.pause(), resume: () => this.ws.resume() },
      // Held until start(): the runtime must hold the session before anything reaches it.
      true,
    );
    this.heartbeat = new Heartbeat({
      intervalMs: options.pingIntervalMs,
      maxMissed: options.maxMissedPongs,
      ping: () => this.ws.ping(),
      suspended: () => this.queue.isPaused,
      onTimeout: (missed) =>
        this.endWith(
          {
            kind: "ModelStreamError",
            ErrorCode: "ModelInvocationTimeExceeded",
            Message: `the model did not answer ${missed} pings in a row (one every ${options.pingIntervalMs} ms)`,
          },
          "heartbeat",
          1001,
          "ping timeout",
        ),
    });

    ws.on("open", () => {
      this.opened = true;
      // Held until start() (see openSession).
      ws.pause();
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on("pong", () => this.heartbeat.pong());
    // Recorded for the close that always follows; the dial reports errors before open.
    ws.on("error", (err: Error & { code?: string }) => (this.lastError = err));
    ws.on("close", (code: number, reason: Buffer) => this.onClose(code, reason.toString("utf8")));
  }

  /** @internal Called by openSession once the caller holds the session. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.outcome && this.ws.readyState === this.ws.OPEN) {
      this.heartbeat.start();
      if (this.options.idleTimeoutMs > 0) {
        this.idleTimer = setTimeout(() => this.onIdle(), this.options.idleTimeoutMs);
        this.idleTimer.unref();
      }
    }
    this.queue.resume();
  }

  /**
   * Forwards one client part. Returns false when the container's side is over the high-water
   * mark: stop reading client input until 'drain'. After the session has ended (the container
   * closed, or an error was decided) parts are dropped and this returns true. Part bytes are
   * kept by reference until sent: do not reuse the buffer.
   */
  write(part: PayloadPart): boolean {
    if (this.inputEnded) throw new Error("SidecarSession.write() after endInput()");
    if (this.outcome || this.ws.readyState !== this.ws.OPEN) return true;
    const result = this.framer.push(part);
    if (!result.ok) {
      this.endWith({ kind: "InternalStreamFailure", Message: result.reason }, "client", closeCodeFor(result.reason), result.reason, result.detail);
      return true;
    }
    this.idleTimer?.refresh();
    if (result.frames.length > 0) this.corkForThisTick();
    for (const frame of result.frames) {
      this.ws.send(frame.data, { binary: frame.binary, fin: frame.fin }, this.onSent);
      this.counts.bytesToModel += frame.data.byteLength;
      if (frame.fin) this.counts.messagesToModel++;
    }
    // Only bytes handed to the socket count here: a held PARTIAL run (bounded by
    // maxPayloadBytes) can only be released by more input, so it must never stop input.
    if (this.ws.bufferedAmount > this.options.highWaterMarkBytes) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /**
   * The runtime hands over every part of one HTTP/2 chunk in one tick; corking the socket until
   * the tick ends sends them to the container in one system call instead of one each (a quarter
   * of Sluice's CPU per message in the throughput benchmark's profile). Corked bytes still count
   * in `bufferedAmount`, so backpressure is unchanged. `ws` keeps its socket private; its version
   * is pinned exactly.
   */
  private corkForThisTick(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /**
   * The client's input ended. Nothing is sent to the container: it may still send what it
   * owes, and the session ends when it closes, or once it has been silent for closeGraceMs
   * (Close 1000). The grace counts silence, not time since the input ended, so a model still
   * working through a backlog (a long file decoded slower than it arrived) loses nothing.
   */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (this.outcome || this.socketClosed) return;
    const result = this.framer.end();
    if (!result.ok) {
      this.endWith({ kind: "InternalStreamFailure", Message: result.reason }, "client", closeCodeFor(result.reason), result.reason, result.detail);
      return;
    }
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      // Already closing: the container closed first, and its close decides.
      if (this.outcome || this.ws.readyState !== this.ws.OPEN) return;
      // A clean end: the container had its grace period. What it sends until the close
      // handshake completes is still forwarded.
      this.outcome = { error: undefined, endedBy: "grace", detail: `the model sent nothing for ${this.options.closeGraceMs} ms after the client's input ended` };
      this.heartbeat.stop();
      this.ws.close(1000, "client input ended");
    }, this.options.closeGraceMs);
  }

  /**
   * Ends the session with `error` (e.g. a bad event signature): the container's side is closed,
   * what the container sent before is still delivered, then `output.end(error)`.
   */
  fail(error: StreamError): void {
    const code = error.kind === "InternalStreamFailure" ? closeCodeFor(error.Message) : 1011;
    const reason = error.kind === "InternalStreamFailure" ? error.Message : error.ErrorCode;
    this.endWith(error, "client", code, reason);
  }

  /**
   * The client is gone (RST_STREAM): the WebSocket is closed at once, queued parts are dropped
   * and `output.end()` is called now (without error) if it had not been.
   */
  cancel(): void {
    if (!this.outcome) this.outcome = { error: undefined, endedBy: "cancel" };
    this.discarding = true;
    this.clearTimers();
    this.queue.abort();
    if (this.ws.readyState === this.ws.OPEN) {
      // A Close frame would wait behind unsent data; a socket with nothing queued gets one.
      if (this.ws.bufferedAmount > 0) this.ws.terminate();
      else this.ws.close(1001, "client cancelled");
    } else if (this.ws.readyState === this.ws.CLOSING) {
      // A closing handshake already under way (grace, an error) need not run its course now.
      this.ws.terminate();
    }
    this.ws.resume();
  }

  /**
   * Rollout and shutdown: if the session is still running after `deadlineMs`, it ends with
   * ModelStreamError DrainDeadlineExceeded. A later call replaces the deadline.
   */
  setDrainDeadline(deadlineMs: number): void {
    if (this.outcome || this.socketClosed) return;
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.endWith(
        { kind: "ModelStreamError", ErrorCode: "DrainDeadlineExceeded", Message: `the session was still open ${deadlineMs} ms after draining began` },
        "drain",
        1001,
        "draining",
      );
    }, deadlineMs);
  }

  /** The runtime can take parts again after `output.part()` returned false. */
  resumeOutput(): void {
    if (!this.started) return;
    this.queue.resume();
  }

  /** Bytes this session holds: a held PARTIAL run, unsent WebSocket data and parts waiting for the runtime. */
  bufferedBytes(): number {
    return this.framer.heldBytes + this.ws.bufferedAmount + this.queue.queuedBytes;
  }

  get stats(): SessionStats {
    return {
      ...this.counts,
      pingsSent: this.heartbeat.pingsSent,
      pongsReceived: this.heartbeat.pongsReceived,
      missedPongs: this.heartbeat.missed,
    };
  }

  private readonly onSent = (err?: Error): void => {
    if (err || !this.needDrain) return;
    // Half the mark, so a busy session is not told to stop and go on every frame.
    if (this.ws.bufferedAmount <= this.options.highWaterMarkBytes / 2) {
      this.needDrain = false;
      this.emit("drain");
    }
  };

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.discarding) return;
    this.idleTimer?.refresh();
    this.graceTimer?.refresh();
    this.counts.messagesFromModel++;
    this.counts.bytesFromModel += data.length;
    const DataType = isBinary ? "BINARY" : "UTF8";
    const max = this.options.maxPayloadBytes;
    if (data.length <= max) {
      this.queue.push({ Bytes: data, DataType, CompletionState: "COMPLETE" });
      return;
    }
    // Only when maxModelMessageBytes > maxPayloadBytes: one message as PARTIAL…COMPLETE parts,
    // text cut on character boundaries so each part is valid UTF-8 on its own.
    let offset = 0;
    while (offset < data.length) {
      let end = Math.min(offset + max, data.length);
      if (!isBinary && end < data.length) {
        let cut = end;
        while (cut > offset && (data[cut]! & 0xc0) === 0x80) cut--;
        if (cut > offset) end = cut;
      }
      this.queue.push({ Bytes: data.subarray(offset, end), DataType, CompletionState: end === data.length ? "COMPLETE" : "PARTIAL" });
      offset = end;
    }
  }

  private outputThrew(where: string, err: unknown): void {
    this.outputFailure ??= `output.${where}() threw: ${describe(err)}`;
    if (!this.outcome) {
      this.outcome = { error: { kind: "InternalStreamFailure", Message: "InternalError" }, endedBy: "output" };
    }
    this.discarding = true;
    this.clearTimers();
    this.queue.abort(this.outcome.error);
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1011, "internal error");
    this.ws.resume();
  }

  private onIdle(): void {
    // Parts waiting on either side mean a slow peer, not an idle session: look again later.
    if (this.queue.isPaused || this.needDrain) {
      this.idleTimer?.refresh();
      return;
    }
    this.endWith({ kind: "InternalStreamFailure", Message: "IdleTimeout" }, "idle", 1001, "idle timeout", `no message either way for ${this.options.idleTimeoutMs} ms`);
  }

  private onClose(code: number, reason: string): void {
    this.socketClosed = { code, reason };
    this.clearTimers();
    if (!this.opened) return; // the dial reports it
    if (!this.outcome) {
      const error = streamErrorForClosure({ code, reason, error: this.lastError }, this.options.maxModelMessageBytes);
      this.outcome = { error, endedBy: "model", detail: this.lastError?.message };
    }
    this.queue.finish(this.outcome.error);
    // A writer waiting for room would wait forever; its next writes are dropped.
    if (this.needDrain) {
      this.needDrain = false;
      this.emit("drain");
    }
    this.settleIfDone();
  }

  /** Decides an error end: stop forwarding the container, close it, end after what is queued. */
  private endWith(error: StreamError, endedBy: Outcome["endedBy"], code: number, reason: string, detail?: string): void {
    // Not OPEN: the container's Close arrived first, and its close decides.
    if (this.outcome || this.ws.readyState !== this.ws.OPEN) return;
    this.outcome = { error, endedBy, detail };
    this.discarding = true;
    this.clearTimers();
    this.queue.finish(error);
    this.ws.close(code, closeReason(reason));
    // Read on to the container's Close (messages are discarded); closeTimeoutMs bounds it.
    this.ws.resume();
  }

  private clearTimers(): void {
    this.heartbeat.stop();
    clearTimeout(this.graceTimer);
    clearTimeout(this.drainTimer);
    clearTimeout(this.idleTimer);
    this.graceTimer = undefined;
    this.drainTimer = undefined;
    this.idleTimer = undefined;
  }

  private settleIfDone(): void {
    if (!this.socketClosed || !this.queue.isEnded || !this.opened) return;
    this.resolveClosed({
      error: this.outcome?.error,
      endedBy: this.outcome?.endedBy ?? "model",
      detail: [this.outcome?.detail, this.outputFailure].filter(Boolean).join("; ") || undefined,
      closeCode: this.socketClosed.code,
      closeReason: this.socketClosed.reason,
      stats: this.stats,
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The Close code the container sees when the client's input was at fault. */
function closeCodeFor(reason: string): number {
  if (reason === "PayloadTooLarge") return 1009;
  if (reason === "MalformedEvent" || reason === "InvalidSignature") return 1008;
  return 1011;
}
