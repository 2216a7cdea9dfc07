// InvokeEndpointWithBidirectionalStream (DESIGN §2): validate, route, dial the container, answer
// 200 only once its WebSocket is open, then pump both ways with end-to-end backpressure until one
// side ends. Failures before the 200 are HTTP errors in AWS shape; after it, exception events
// that follow everything the container sent.
import type * as http2 from "node:http2";
import { constants } from "node:http2";
import type { Logger } from "pino";
import { AwsError, isAwsError } from "../protocol/aws-error.js";
import { isEventStreamFailure } from "../protocol/event-stream-failure.js";
import type { PayloadPart, StreamError } from "../protocol/events.js";
import { encodePayloadPart } from "../protocol/payload-part.js";
import { RequestEventReader } from "../protocol/request-event-reader.js";
import type { EventVerifier } from "../protocol/sigv4-event-verifier.js";
import { encodeStreamError } from "../protocol/stream-error-message.js";
import {
  MODEL_INVOCATION_PATH_HEADER,
  MODEL_QUERY_STRING_HEADER,
  TARGET_VARIANT_HEADER,
  validateBidiRequest,
} from "../protocol/validation.js";
import type { SessionLease, SessionRouter } from "../routing/session-router.js";
import { containerUrl, DialError, openSession, type SidecarSession } from "../sidecar/index.js";
import { BidiSessionRegistry } from "./bidi-session-registry.js";
import { logStreamArn, modelError } from "./model-error.js";
import type { InstanceExits } from "./instance-exits.js";
import type { SessionObserver } from "./session-observer.js";

export interface BidiContext {
  requestId: string;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  endpointName: string;
  identity: { region: string; chain?: unknown };
  log: Logger;
}

export interface BidiOptions {
  router: SessionRouter;
  registry: BidiSessionRegistry;
  observer: SessionObserver;
  accountId: string;
  maxPayloadBytes: number;
  wsConnectTimeoutMs: number;
  pingIntervalMs: number;
  maxMissedPongs: number;
  closeGraceMs: number;
  idleTimeoutMs: number;
  /** True once shutdown began: new sessions get 503. */
  refusing: () => boolean;
  /** Asked when a session breaks, so StreamBroken can name how the instance's process ended. */
  exits?: InstanceExits;
}

/** How long a broken session waits for its instance's exit to be known before it ends without it. */
const EXIT_WAIT_MS = 1_000;

const EVENT_STREAM = "application/vnd.amazon.eventstream";
/** Framing room around the largest payload: the envelope and the inner headers. */
const FRAMING_ALLOWANCE = 64 * 1024;

export function createBidiHandler(options: BidiOptions) {
  return (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, ctx: BidiContext): void => {
    const stream = req.stream;
    // Nothing is read until the container's WebSocket is open; HTTP/2 flow control holds the client.
    stream.pause();
    start(stream, req.headers, ctx).catch((err: unknown) => {
      const failure = isAwsError(err) ? err : new AwsError("InternalServerError", 500, `Internal error; request id ${ctx.requestId}.`);
      if (!isAwsError(err)) ctx.log.error({ err }, "bidi session failed before 200");
      if (!stream.destroyed && !stream.closed) options.observer.refused(ctx.endpointName, failure.type);
      respondError(stream, res, failure);
    });
  };

  async function start(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ctx: BidiContext): Promise<void> {
    if (options.refusing()) throw new AwsError("ServiceUnavailableError", 503, "Sluice is shutting down; no new sessions are accepted.");
    const contentType = headers["content-type"];
    if (contentType !== undefined && !contentType.startsWith(EVENT_STREAM)) {
      throw new AwsError("InputValidationError", 400, `Content-Type must be ${EVENT_STREAM}, not "${contentType}".`);
    }
    const input = {
      EndpointName: ctx.endpointName,
      TargetVariant: single(headers[TARGET_VARIANT_HEADER]),
      ModelInvocationPath: single(headers[MODEL_INVOCATION_PATH_HEADER]),
      ModelQueryString: single(headers[MODEL_QUERY_STRING_HEADER]),
    };
    const invalid = validateBidiRequest(input);
    if (invalid) throw invalid;
    const { endpoint, variant } = options.router.resolve(ctx.endpointName, input.TargetVariant);
    if (!variant.bidiCapable) {
      throw new AwsError(
        "ModelError",
        424,
        `The model of variant ${variant.variantName} does not declare bidirectional streaming: its image or sluice-model.json lacks the label com.amazonaws.sagemaker.capabilities.bidirectional-streaming=true.`,
        { fields: { OriginalStatusCode: 424, OriginalMessage: "model is not bidirectional-streaming capable" } },
      );
    }
    const lease = options.router.acquire(endpoint, variant);
    const ref = {
      endpointName: endpoint.endpointName,
      variantName: variant.variantName,
      instanceId: lease.instance.instanceId,
      logFile: lease.instance.logFile,
    };
    const arn = logStreamArn(ctx.identity.region, options.accountId, ref);
    const bridge = new Bridge(stream, lease, ctx, options);
    const abort = new AbortController();
    const onEarlyClose = (): void => abort.abort();
    stream.once("close", onEarlyClose);
    let session: SidecarSession;
    const dialStart = performance.now();
    try {
      session = await openSession(
        {
          url: containerUrl(`ws://${lease.instance.host}:${lease.instance.port}`, input.ModelInvocationPath, input.ModelQueryString),
          maxPayloadBytes: options.maxPayloadBytes,
          handshakeTimeoutMs: options.wsConnectTimeoutMs,
          pingIntervalMs: options.pingIntervalMs,
          maxMissedPongs: options.maxMissedPongs,
          closeGraceMs: options.closeGraceMs,
          signal: abort.signal,
        },
        bridge,
      );
    } catch (err: unknown) {
      lease.release();
      if (stream.destroyed || stream.closed) return;
      if (err instanceof DialError) {
        options.router.reportDialFailure(lease.instance.instanceId);
        throw modelError(`The model container did not accept the WebSocket: ${err.message}`, ref, arn, {
          status: err.status,
          message: err.body ?? err.message,
        });
      }
      throw err;
    } finally {
      stream.off("close", onEarlyClose);
    }
    const dialMs = performance.now() - dialStart;
    options.router.reportDialSuccess(lease.instance.instanceId);
    if (stream.destroyed || stream.closed) {
      session.cancel();
      lease.release();
      return;
    }
    bridge.attach(session, variant.variantName);
    const setupMs = performance.now() - ctx.receivedAt;
    options.observer.setup(lease, { modelMs: dialMs, overheadMs: Math.max(0, setupMs - dialMs) });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function respondError(stream: http2.ServerHttp2Stream, res: http2.Http2ServerResponse, err: AwsError): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close();
    return;
  }
  const body = Buffer.from(JSON.stringify({ Message: err.message, ...err.fields }));
  stream.respond({
    ":status": err.status,
    "content-type": "application/json",
    "content-length": body.length,
    "x-amzn-errortype": err.type,
    "x-amzn-requestid": String(res.getHeader("x-amzn-RequestId") ?? ""),
    ...err.headers,
  });
  stream.end(body);
  // The client may still be sending; we will not read it.
  stream.resume();
}

/** One open session: the HTTP/2 stream on one side, the sidecar on the other. */
class Bridge {
  private session!: SidecarSession;
  private readonly reader: RequestEventReader;
  private inputEnded = false;
  private finished = false;
  /** The end is decided and being delivered (it may wait for the instance's exit to be known). */
  private ending: { error: StreamError | undefined } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private resolveEnded!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));
  private readonly startedAt = Date.now();

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly lease: SessionLease,
    private readonly ctx: BidiContext,
    private readonly options: BidiOptions,
  ) {
    this.reader = new RequestEventReader({
      verifier: ctx.identity.chain as EventVerifier | undefined,
      maxMessageBytes: options.maxPayloadBytes + FRAMING_ALLOWANCE,
      maxPayloadBytes: options.maxPayloadBytes,
    });
  }

  get instanceId(): string {
    return this.lease.instance.instanceId;
  }

  attach(session: SidecarSession, variantName: string): void {
    this.session = session;
    const { stream, options } = this;
    stream.respond({
      ":status": 200,
      "content-type": EVENT_STREAM,
      "x-amzn-invoked-production-variant": variantName,
      "x-amzn-requestid": this.ctx.requestId,
    });
    options.registry.add({
      instanceId: this.instanceId,
      ended: this.ended,
      bufferedBytes: () => this.bufferedBytes(),
      expireAfter: (deadlineMs) => this.expireAfter(deadlineMs),
    });
    options.observer.started(this.lease);
    void session.closed.then((summary) => options.observer.summary(this.lease, summary));
    this.touch();

    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => this.onEnd());
    // A client cancel (RST_STREAM) or a dead connection: close the container side at once.
    stream.on("close", () => {
      if (!this.finished) {
        session.cancel();
        this.finish(this.ending?.error);
      }
    });
    stream.on("error", () => {});
    session.on("drain", () => {
      if (!this.finished) stream.resume();
    });
    stream.resume();
  }

  /**
   * Draining began: past `deadlineMs` the session ends with DrainDeadlineExceeded after what the
   * container sent (the sidecar's timer, so the Message names the deadline it was given). That
   * error waits behind whatever the client has not read, and a client that reads nothing would
   * hold the drain (and shutdown) forever: after the close grace its stream is reset.
   */
  private expireAfter(deadlineMs: number): void {
    this.session.setDrainDeadline(deadlineMs);
    setTimeout(() => {
      if (this.finished) return;
      this.session.cancel();
      this.finish(this.ending?.error);
      if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
    }, deadlineMs + this.options.closeGraceMs).unref();
  }

  /** Bytes this session holds: HTTP/2 output not yet sent, queued input, WebSocket buffer. */
  bufferedBytes(): number {
    return this.stream.writableLength + this.reader.bufferedBytes + (this.session?.bufferedBytes() ?? 0);
  }

  // --- client → container

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.touch();
    try {
      for (const item of this.reader.push(chunk)) {
        if (item.kind === "end") {
          this.inputEnded = true;
          this.session.endInput();
          continue;
        }
        this.options.observer.input(this.lease, item.part.Bytes.byteLength);
        if (!this.session.write(item.part)) this.stream.pause();
      }
    } catch (err) {
      this.failInput(err);
    }
  }

  private onEnd(): void {
    if (this.finished) return;
    // The whole HTTP/2 stream is already closed (the client's connection went away): nothing
    // can be sent any more. Node does not destroy such a stream, nor emit 'close', while a
    // write it can never send is pending, so this is the last word we get: end it as a cancel.
    if (this.stream.closed) {
      this.session.cancel();
      this.finish(this.ending?.error);
      this.stream.destroy();
      return;
    }
    try {
      this.reader.end();
    } catch (err) {
      this.failInput(err);
      return;
    }
    // END_STREAM without the empty envelope still means the client is done sending.
    if (!this.inputEnded) {
      this.inputEnded = true;
      this.session.endInput();
    }
  }

  private failInput(err: unknown): void {
    const error: StreamError = isEventStreamFailure(err)
      ? err.toStreamError()
      : { kind: "InternalStreamFailure", Message: "MalformedEvent" };
    if (!isEventStreamFailure(err)) this.ctx.log.warn({ err }, "bad client input");
    else this.ctx.log.info({ reason: err.reason, detail: err.detail }, "client stream failure");
    this.stream.pause();
    this.session.fail(error);
  }

  // --- container → client (SessionOutput)

  part(part: PayloadPart): boolean {
    if (this.finished || this.stream.destroyed) return true;
    this.touch();
    this.options.observer.output(this.lease, part.Bytes.byteLength);
    const ok = this.stream.write(encodePayloadPart(part, "response"));
    if (!ok) this.stream.once("drain", () => this.session.resumeOutput());
    return ok;
  }

  end(error?: StreamError): void {
    if (this.finished || this.ending) return;
    this.ending = { error };
    const exits = this.options.exits;
    if (error?.kind === "ModelStreamError" && error.ErrorCode === "StreamBroken" && exits) {
      // DESIGN §2: StreamBroken names the exit code or signal. The broken connection and the
      // process's exit come from the same kill, in either order: wait briefly for the exit.
      void exits.exitOf(this.instanceId, EXIT_WAIT_MS).then(
        (exit) => this.deliver(exit === undefined ? error : { ...error, Message: `${error.Message}; the instance's process exited with ${exit}` }),
        () => this.deliver(error),
      );
      return;
    }
    this.deliver(error);
  }

  private deliver(error: StreamError | undefined): void {
    if (this.finished) return;
    if (!this.stream.destroyed && !this.stream.closed) {
      if (error) this.stream.write(encodeStreamError(error));
      this.stream.end();
      // Whatever the client still sends is read and dropped, so its END_STREAM can close the stream.
      this.stream.resume();
      this.resetIfNotEnded();
    }
    if (error) this.ctx.log.info({ error }, "session ended with error");
    this.finish(error);
  }

  /**
   * A client that never ends its request side would keep the HTTP/2 stream open after the
   * session is over, holding one of its connection's streams (and the connection) forever. Once
   * the response is complete, RFC 9113 §8.1 lets the server reset the stream with NO_ERROR; the
   * client gets closeGraceMs to end it first. A client that has not even read the response by
   * then gets CANCEL: a NO_ERROR reset waits for the response to drain, which it never would.
   */
  private resetIfNotEnded(): void {
    const stream = this.stream;
    const timer = setTimeout(() => {
      if (stream.closed || stream.destroyed) return;
      stream.close(stream.writableFinished ? constants.NGHTTP2_NO_ERROR : constants.NGHTTP2_CANCEL);
    }, this.options.closeGraceMs);
    timer.unref();
    stream.once("close", () => clearTimeout(timer));
  }

  /** Every way a session ends comes here once: a cancel counts in the metrics like any end. */
  private finish(error: StreamError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idleTimer);
    this.options.observer.ended(this.lease, error, Date.now() - this.startedAt);
    this.lease.release();
    this.resolveEnded();
  }

  private touch(): void {
    if (this.options.idleTimeoutMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      // A client that stopped reading cannot be told (the exception would queue behind what it
      // does not read, and the session would never end): its stream is cancelled, which closes
      // the container's side (the 'close' handler).
      if (this.stream.writableNeedDrain) {
        this.ctx.log.info("idle timeout while the client was not reading; cancelling the stream");
        this.stream.close(constants.NGHTTP2_CANCEL);
        return;
      }
      this.session.fail({ kind: "InternalStreamFailure", Message: "IdleTimeout" });
    }, this.options.idleTimeoutMs);
  }
}
