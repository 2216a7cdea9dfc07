// One audio channel of one session: resamples to the engine's rate, feeds the recogniser in
// bounded chunks (one async engine call at a time) and turns its hypotheses into Deepgram's
// event stream: interim Results, finals on endpoints, SpeechStarted and UtteranceEnd.
//
// Endpoints come from the recogniser's own hypothesis rather than an energy detector: an
// utterance ends when the best path has had no word for the endpointing window. This keeps
// word timings exact (PocketSphinx 5prealpha's built-in silence removal renumbers frames).
import { Resampler } from "./resampler.js";
import type { Hypothesis, RecognisedWord, Recogniser } from "./recogniser.js";

export interface TranscriberSettings {
  /** Audio per engine call, in ms: bounds each off-loop call and the endpoint granularity. */
  chunkMs: number;
  /** With interim_results, an interim Results at least every this many ms of decoded audio. */
  interimIntervalMs: number;
  /** Endpointing shorter than this is raised to it: shorter gaps occur inside sentences. */
  minEndpointingMs: number;
  /** An utterance is finalised (speech_final false) once it holds this much audio. */
  maxUtteranceMs: number;
}

export interface ChannelOptions {
  interimResults: boolean;
  endpointingMs: number | false;
  utteranceEndMs: number | undefined;
  vadEvents: boolean;
}

/** What the transcriber reports, in stream time (seconds from the start of the stream). */
export type ChannelEvent =
  | {
      kind: "results";
      start: number;
      duration: number;
      words: RecognisedWord[];
      isFinal: boolean;
      speechFinal: boolean;
      fromFinalize: boolean;
    }
  | { kind: "speech-started"; timestamp: number }
  | { kind: "utterance-end"; lastWordEnd: number };

type QueueItem = { kind: "audio"; pcm: Int16Array } | { kind: "finalize" } | { kind: "close" };

export class ChannelTranscriber {
  private readonly resampler: Resampler | undefined;
  private readonly queue: QueueItem[] = [];
  private queuedSamples = 0;
  private running = false;
  private stopped = false;
  private failed: Error | undefined;
  private inUtterance = false;
  private uttStart = 0;
  private uttSamples = 0;
  private streamSamples = 0;
  private lastInterimAt = 0;
  private speechAnnounced = false;
  private lastWordEnd: number | undefined;
  private wordsSinceUtteranceEnd = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private settled: Promise<void> = Promise.resolve();

  constructor(
    private readonly recogniser: Recogniser,
    inputRate: number,
    private readonly options: ChannelOptions,
    private readonly settings: TranscriberSettings,
    private readonly emit: (event: ChannelEvent) => void,
    /** Called whenever the transcriber goes from busy to idle, or fails. */
    private readonly onIdle: (error?: Error) => void,
    /** Called after each engine call, as the backlog shrinks. */
    private readonly onProgress: () => void = () => undefined,
  ) {
    this.resampler = inputRate === recogniser.sampleRate ? undefined : new Resampler(inputRate, recogniser.sampleRate);
  }

  /** Nothing queued and no engine call in flight. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  /** Seconds of audio queued but not yet decoded. */
  get backlogSeconds(): number {
    return this.queuedSamples / this.recogniser.sampleRate;
  }

  push(pcm: Int16Array): void {
    if (this.stopped || this.closed || pcm.length === 0) return;
    // soxr is fast enough (hundreds of times real time) to run inline; decoding is what needs
    // to leave the event loop.
    const resampled = this.resampler ? this.resampler.process(pcm) : pcm;
    this.enqueue({ kind: "audio", pcm: resampled });
  }

  /** Deepgram's Finalize: everything queued so far is decoded and finalised (from_finalize). */
  finalize(): void {
    if (this.stopped || this.closed) return;
    this.enqueue({ kind: "finalize" });
  }

  /** CloseStream: decodes everything queued, emits the final Results, then resolves. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
      if (this.resampler && !this.stopped) {
        const tail = this.resampler.flush();
        if (tail.length) this.enqueue({ kind: "audio", pcm: tail });
      }
      this.enqueue({ kind: "close" });
      if (this.stopped) this.resolveClosed?.();
    }
    return this.closed;
  }

  /** Abandons the stream: stops after the engine call in flight and resets the recogniser. */
  async abort(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    this.queuedSamples = 0;
    await this.settled;
    this.resampler?.close();
    this.resolveClosed?.();
  }

  private enqueue(item: QueueItem): void {
    if (this.stopped) return;
    if (item.kind === "audio") this.queuedSamples += item.pcm.length;
    this.queue.push(item);
    if (!this.running && !this.failed) {
      this.running = true;
      this.settled = this.pump();
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped && this.queue.length > 0) {
        const head = this.queue[0];
        if (head.kind === "audio") {
          await this.decode(this.takeAudio());
          this.onProgress();
        }
        else {
          this.queue.shift();
          if (head.kind === "finalize") await this.finish({ speechFinal: false, fromFinalize: true });
          else {
            await this.finish({ speechFinal: true, fromFinalize: false });
            this.stopped = true;
            this.resolveClosed?.();
          }
        }
      }
      this.running = false;
      if (this.stopped) await this.recogniser.reset();
      this.onIdle();
    } catch (err) {
      this.running = false;
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.stopped = true;
      this.queue.length = 0;
      this.resolveClosed?.();
      this.onIdle(this.failed);
    }
  }

  /** Up to one chunk of queued audio, joined across pushes. */
  private takeAudio(): Int16Array {
    const want = Math.max(1, Math.round((this.settings.chunkMs / 1000) * this.recogniser.sampleRate));
    const parts: Int16Array[] = [];
    let have = 0;
    while (have < want && this.queue.length > 0 && this.queue[0].kind === "audio") {
      const item = this.queue[0] as { kind: "audio"; pcm: Int16Array };
      const take = Math.min(want - have, item.pcm.length);
      parts.push(item.pcm.subarray(0, take));
      have += take;
      if (take === item.pcm.length) this.queue.shift();
      else item.pcm = item.pcm.subarray(take);
    }
    this.queuedSamples -= have;
    if (parts.length === 1) return parts[0];
    const out = new Int16Array(have);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private async decode(pcm: Int16Array): Promise<void> {
    if (!this.inUtterance) await this.startUtterance();
    await this.recogniser.accept(pcm);
    this.uttSamples += pcm.length;
    this.streamSamples += pcm.length;
    const rate = this.recogniser.sampleRate;
    const decoded = this.uttSamples / rate;
    const now = this.streamSamples / rate;
    const hyp = await this.recogniser.partial();
    const last = hyp.words.at(-1);

    if (hyp.words.length > 0) {
      if (this.options.vadEvents && !this.speechAnnounced) {
        this.speechAnnounced = true;
        this.emit({ kind: "speech-started", timestamp: this.uttStart + hyp.words[0].start });
      }
      this.wordsSinceUtteranceEnd = true;
      this.lastWordEnd = this.uttStart + (last as RecognisedWord).end;
    }

    const endpointing = this.options.endpointingMs;
    const window = endpointing === false ? undefined : Math.max(endpointing, this.settings.minEndpointingMs) / 1000;
    if (last && window !== undefined && decoded - last.end >= window) {
      await this.finish({ speechFinal: true, fromFinalize: false });
    } else if (decoded * 1000 >= this.settings.maxUtteranceMs) {
      await this.finish({ speechFinal: false, fromFinalize: false });
    } else if (this.options.interimResults && (decoded - this.lastInterimAt) * 1000 >= this.settings.interimIntervalMs) {
      this.lastInterimAt = decoded;
      this.emitResults(hyp, { isFinal: false, speechFinal: false, fromFinalize: false });
    }

    const ue = this.options.utteranceEndMs;
    if (ue !== undefined && this.wordsSinceUtteranceEnd && this.lastWordEnd !== undefined && (now - this.lastWordEnd) * 1000 >= ue) {
      this.wordsSinceUtteranceEnd = false;
      this.speechAnnounced = false;
      this.emit({ kind: "utterance-end", lastWordEnd: this.lastWordEnd });
    }
  }

  private async startUtterance(): Promise<void> {
    await this.recogniser.startUtterance();
    this.inUtterance = true;
    this.uttStart = this.streamSamples / this.recogniser.sampleRate;
    this.uttSamples = 0;
    this.lastInterimAt = 0;
  }

  private async finish(how: { speechFinal: boolean; fromFinalize: boolean }): Promise<void> {
    let hyp: Hypothesis = { words: [], decodedSeconds: 0 };
    if (this.inUtterance) {
      this.inUtterance = false;
      hyp = await this.recogniser.endUtterance();
    }
    if (hyp.words.length > 0) {
      this.wordsSinceUtteranceEnd = true;
      this.lastWordEnd = this.uttStart + (hyp.words.at(-1) as RecognisedWord).end;
    }
    this.emitResults(hyp, { isFinal: true, speechFinal: how.speechFinal && hyp.words.length > 0, fromFinalize: how.fromFinalize });
    if (how.speechFinal && !this.options.utteranceEndMs) this.speechAnnounced = false;
    // The next utterance starts where this one stopped; it is opened lazily with the next audio.
    this.uttStart = this.streamSamples / this.recogniser.sampleRate;
    this.uttSamples = 0;
    this.lastInterimAt = 0;
  }

  private emitResults(hyp: Hypothesis, flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean }): void {
    const start = this.uttStart;
    this.emit({
      kind: "results",
      start,
      duration: this.uttSamples / this.recogniser.sampleRate,
      words: hyp.words.map((w) => ({ ...w, start: start + w.start, end: start + w.end })),
      ...flags,
    });
  }
}
