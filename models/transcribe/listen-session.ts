// One Deepgram live session on an accepted WebSocket: audio frames in, Results/SpeechStarted/
// UtteranceEnd/Metadata out, KeepAlive/Finalize/CloseStream handled, and Deepgram's close codes
// for silence (1011 NET-0001) and bad audio (1008 DATA-0000).
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import { AudioDecodeError, StreamDecoder, type AudioFormat, type SampleFormat } from "./audio-decoding.js";
import { ChannelTranscriber, type ChannelEvent, type TranscriberSettings } from "./channel-transcriber.js";
import { buildMetadata, buildResults, buildSpeechStarted, buildUtteranceEnd } from "./deepgram-messages.js";
import type { DecoderPool } from "./decoder-pool.js";
import type { ListenOptions, RawEncoding } from "./query-params.js";
import type { Recogniser } from "./recogniser.js";

export interface SessionSettings {
  /**
   * Audio queued but not yet decoded, in seconds per channel, above which the session stops
   * reading the socket (TCP backpressure) until half of it is decoded.
   */
  maxBacklogSeconds: number;
  /** Deepgram's 10 s: no frame for this long while nothing is left to decode → 1011 NET-0001. */
  idleTimeoutMs: number;
  transcriber: TranscriberSettings;
}

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;
export const CLOSE_TRY_AGAIN_LATER = 1013;

const SAMPLE_FORMAT: Record<RawEncoding, SampleFormat> = { linear16: "s16le", linear32: "s32le", mulaw: "mulaw", alaw: "alaw" };

export class ListenSession {
  private readonly decoder: StreamDecoder;
  private readonly sha256 = createHash("sha256");
  private readonly created = new Date();
  private format: AudioFormat | undefined;
  private transcribers: ChannelTranscriber[] = [];
  /** Decoders held by this session and not yet given back to the pool. */
  private held: Recogniser[];
  private readonly broken = new Set<Recogniser>();
  private sentenceStart: boolean[] = [];
  private inputFrames = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private finished = false;
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: ListenOptions,
    decoders: Recogniser[],
    private readonly pool: DecoderPool,
    private readonly settings: SessionSettings,
    private readonly log: Logger,
    readonly requestId: string,
  ) {
    this.held = decoders;
    const raw: AudioFormat | undefined = options.encoding
      ? { sample: SAMPLE_FORMAT[options.encoding], sampleRate: options.sampleRate as number, channels: options.channels }
      : undefined;
    this.decoder = new StreamDecoder(raw);
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    ws.on("close", (code, reason) => this.onClientClose(code, reason.toString()));
    ws.on("error", (err) => this.log.warn({ err }, "websocket error"));
    this.armIdleTimer();
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.finished) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      // Deepgram's old SDKs sent an empty frame to mean "end of audio"; it is neither audio nor
      // the end of anything here, and it does not count as activity.
      if (bytes.length === 0) return;
      if (!this.closing) this.onAudio(bytes);
      // After the audio is queued, so the clock stays stopped while it decodes.
      this.armIdleTimer();
      return;
    }
    this.armIdleTimer();
    let message: { type?: unknown };
    try {
      message = JSON.parse(bytes.toString("utf8")) as { type?: unknown };
    } catch {
      this.log.warn({ bytes: bytes.length }, "ignored a text frame that is not JSON");
      return;
    }
    switch (message?.type) {
      case "KeepAlive":
        return;
      case "Finalize":
        for (const t of this.transcribers) t.finalize();
        if (this.transcribers.length === 0) this.emitEmptyFinalize();
        return;
      case "CloseStream":
        void this.closeStream();
        return;
      default:
        this.log.warn({ type: message?.type }, "ignored an unknown control message");
    }
  }

  private onAudio(bytes: Buffer): void {
    this.sha256.update(bytes);
    try {
      this.decodeAudio(bytes);
    } catch (err) {
      if (err instanceof AudioDecodeError) {
        this.log.info({ reason: err.message }, "undecodable audio");
        this.terminate(CLOSE_POLICY, "DATA-0000");
      } else {
        this.log.error({ err }, "could not process audio");
        this.terminate(CLOSE_INTERNAL, "internal error");
      }
      return;
    }
    if (!this.ws.isPaused && this.transcribers.some((t) => t.backlogSeconds > this.settings.maxBacklogSeconds)) {
      this.log.info({ maxBacklogSeconds: this.settings.maxBacklogSeconds }, "backlog full: pausing the socket");
      this.ws.pause();
    }
  }

  /** Resumes reading once every channel has worked its backlog down to half the limit. */
  private onProgress(): void {
    if (this.ws.isPaused && this.transcribers.every((t) => t.backlogSeconds <= this.settings.maxBacklogSeconds / 2)) this.ws.resume();
  }

  private decodeAudio(bytes: Buffer): void {
    const channels = this.decoder.push(bytes);
    if (!channels || channels[0].length === 0) return;
    if (!this.format && !this.start(this.decoder.format as AudioFormat)) return;
    this.inputFrames += channels[0].length;
    if (this.options.multichannel) {
      channels.forEach((pcm, i) => this.transcribers[i].push(pcm));
    } else {
      this.transcribers[0].push(channels.length === 1 ? channels[0] : downmix(channels));
    }
  }

  /** Sets up one transcriber per transcribed channel once the audio format is known. */
  private start(format: AudioFormat): boolean {
    this.format = format;
    const wanted = this.options.multichannel ? format.channels : 1;
    if (wanted > this.held.length) {
      // A WAV header can announce more channels than `channels` reserved at the handshake.
      const more = this.pool.tryAcquire(wanted - this.held.length);
      if (!more) {
        this.log.warn({ wanted, held: this.held.length }, "not enough free decoders for the stream's channels");
        this.terminate(CLOSE_TRY_AGAIN_LATER, "not enough free decoders for the channels");
        return false;
      }
      this.held.push(...more);
    } else if (wanted < this.held.length) {
      for (const spare of this.held.splice(wanted)) this.pool.release(spare);
    }
    this.log.info({ format, transcribed: wanted }, "audio format");
    this.sentenceStart = Array.from({ length: wanted }, () => true);
    this.transcribers = this.held.map(
      (recogniser, i) =>
        new ChannelTranscriber(
          recogniser,
          format.sampleRate,
          this.options,
          this.settings.transcriber,
          (event) => this.onChannelEvent(i, wanted, event),
          (error) => this.onTranscriberIdle(recogniser, error),
          () => this.onProgress(),
        ),
    );
    return true;
  }

  private onChannelEvent(channel: number, channels: number, event: ChannelEvent): void {
    if (this.finished) return;
    switch (event.kind) {
      case "results": {
        const punctuating = this.options.punctuate || this.options.smartFormat;
        const sentenceEnd = event.isFinal && event.speechFinal;
        this.send(
          buildResults({
            requestId: this.requestId,
            engine: this.held[channel].info,
            channel,
            channels,
            start: event.start,
            duration: event.duration,
            isFinal: event.isFinal,
            speechFinal: event.speechFinal,
            fromFinalize: event.fromFinalize,
            words: event.words,
            punctuation: punctuating ? { sentenceStart: this.sentenceStart[channel], sentenceEnd } : undefined,
          }),
        );
        if (event.isFinal && event.words.length > 0) this.sentenceStart[channel] = sentenceEnd;
        return;
      }
      case "speech-started":
        if (this.options.vadEvents) this.send(buildSpeechStarted(channel, channels, event.timestamp));
        return;
      case "utterance-end":
        this.send(buildUtteranceEnd(channel, channels, event.lastWordEnd));
        return;
    }
  }

  private onTranscriberIdle(recogniser: Recogniser, error?: Error): void {
    if (error) {
      this.log.error({ err: error }, "decoder failed");
      this.broken.add(recogniser);
      this.terminate(CLOSE_INTERNAL, "internal error");
      return;
    }
    this.armIdleTimer();
  }

  /** Finalize before any audio: answer it anyway so a client waiting for from_finalize is not stuck. */
  private emitEmptyFinalize(): void {
    const engine = this.held[0]?.info;
    if (!engine) return;
    this.send(
      buildResults({
        requestId: this.requestId,
        engine,
        channel: 0,
        channels: 1,
        start: 0,
        duration: 0,
        isFinal: true,
        speechFinal: false,
        fromFinalize: true,
        words: [],
        punctuation: undefined,
      }),
    );
  }

  /** (Re)starts the NET-0001 clock, but only while every channel has nothing left to decode. */
  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.finished || this.closing) return;
    if (!this.transcribers.every((t) => t.idle)) return;
    this.idleTimer = setTimeout(() => {
      this.log.info({ idleTimeoutMs: this.settings.idleTimeoutMs }, "no audio or message within the timeout window");
      this.terminate(CLOSE_INTERNAL, "NET-0001");
    }, this.settings.idleTimeoutMs);
  }

  /** CloseStream: decode everything received, send the last Results, then Metadata, then close. */
  private async closeStream(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idleTimer);
    await Promise.all(this.transcribers.map((t) => t.close()));
    if (this.finished) return;
    const format = this.format;
    this.send(
      buildMetadata({
        requestId: this.requestId,
        engine: this.held[0]?.info ?? this.pool.engine,
        sha256: this.sha256.digest("hex"),
        created: this.created,
        duration: format ? this.inputFrames / format.sampleRate : 0,
        channels: format?.channels ?? this.options.channels,
      }),
    );
    this.finish(CLOSE_NORMAL, "");
  }

  /** Server-side close for errors and timeouts: nothing more is decoded. */
  terminate(code: number, reason: string): void {
    if (this.finished) return;
    this.log.info({ code, reason }, "closing session");
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.closing = true;
    clearTimeout(this.idleTimer);
    // A paused socket would never read the client's answer to our close frame.
    if (this.ws.isPaused) this.ws.resume();
    this.ws.close(code, reason);
    void this.releaseDecoders();
  }

  private onClientClose(code: number, reason: string): void {
    if (!this.finished) this.log.info({ code, reason }, "client closed the session");
    this.finished = true;
    this.closing = true;
    clearTimeout(this.idleTimer);
    void this.releaseDecoders();
  }

  /** Waits for engine calls in flight, resets each decoder and gives it back (once). */
  private releaseDecoders(): Promise<void> {
    this.releasing ??= (async () => {
      await Promise.all(this.transcribers.map((t) => t.abort()));
      const held = this.held;
      this.held = [];
      for (const r of held) {
        if (this.broken.has(r)) {
          void this.pool.replace(r).catch((err) => this.log.error({ err }, "could not load a replacement decoder"));
          continue;
        }
        try {
          await r.reset();
          this.pool.release(r);
        } catch (err) {
          this.log.error({ err }, "decoder reset failed");
          void this.pool.replace(r).catch((e) => this.log.error({ err: e }, "could not load a replacement decoder"));
        }
      }
      this.log.info({ audioSeconds: this.format ? this.inputFrames / this.format.sampleRate : 0 }, "session ended");
    })();
    return this.releasing;
  }

  private send(message: object): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }
}

/** Averages the channels into one, as Deepgram does without `multichannel`. */
function downmix(channels: Int16Array[]): Int16Array {
  const n = channels[0].length;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const c of channels) sum += c[i];
    out[i] = Math.round(sum / channels.length);
  }
  return out;
}
