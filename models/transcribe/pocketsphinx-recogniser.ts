// PocketSphinx behind the Recogniser interface. The expensive calls (model loading, decoding,
// end-of-utterance lattice search) run through koffi's async calls on worker threads; the
// cheap reads (partial backtrace, segment iteration) stay synchronous.
import { join } from "node:path";
import * as ps from "./pocketsphinx-binding.js";
import type { EngineInfo, Hypothesis, RecognisedWord, Recogniser } from "./recogniser.js";

export const POCKETSPHINX_ENGINE: EngineInfo = {
  name: "pocketsphinx-en-us",
  version: "0.8+5prealpha",
  arch: "pocketsphinx",
  // Fixed so clients can tell which model produced a transcript across restarts.
  uuid: "7b1c3f0e-5d2a-4c8e-9a61-0f3b2e4d8c15",
};

/** Debian's `pocketsphinx-en-us` layout. */
export const DEFAULT_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";

const SAMPLE_RATE = 16000;
// PocketSphinx's default -frate: segment frame numbers are hundredths of a second.
const FRAMES_PER_SECOND = 100;

export interface PocketSphinxOptions {
  /** Directory holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /**
   * Decode the first utterance after a reset a second time, once the cepstral mean has adapted
   * to the caller's channel, and return that as its final (see `endUtterance`).
   */
  redecodeFirstUtterance?: boolean;
}

/** Filler and sentence markers the search emits between real words. */
function isFiller(word: string): boolean {
  return word.startsWith("<") || word.startsWith("[") || word.startsWith("+");
}

/** `read(2)` is the dictionary's second pronunciation of `read`. */
function baseWord(word: string): string {
  const paren = word.indexOf("(");
  return paren > 0 ? word.slice(0, paren) : word;
}

export async function createPocketSphinxRecogniser(options: PocketSphinxOptions = {}): Promise<Recogniser> {
  const dir = options.modelDir ?? DEFAULT_MODEL_DIR;
  const config = ps.cmd_ln_init(
    null,
    ps.ps_args(),
    1,
    ...["-hmm", join(dir, "en-us"), "-lm", join(dir, "en-us.lm.bin"), "-dict", join(dir, "cmudict-en-us.dict")].flatMap(
      (v) => ["str", v],
    ),
    // The decoder's own log goes nowhere: it is chatty and unstructured; errors surface as
    // return codes instead.
    ...["-logfn", "/dev/null"].flatMap((v) => ["str", v]),
    // 5prealpha's silence removal renumbers frames, which breaks word timings; endpointing is
    // done from the hypothesis instead (see channel-transcriber.ts).
    ...["-remove_silence", "no"].flatMap((v) => ["str", v]),
    "str",
    null,
  );
  if (!config) throw new Error(`PocketSphinx rejected its configuration (model dir ${dir})`);
  const decoder = await ps.callAsync<ps.Handle>(ps.ps_init, config);
  if (!decoder) {
    ps.cmd_ln_free_r(config);
    throw new Error(`PocketSphinx could not load the model in ${dir}`);
  }
  return new PocketSphinxRecogniser(decoder, config, options.redecodeFirstUtterance ?? true);
}

class PocketSphinxRecogniser implements Recogniser {
  readonly sampleRate = SAMPLE_RATE;
  readonly info = POCKETSPHINX_ENGINE;
  private readonly logmath: ps.Handle;
  /** Live CMN state and its value when the model was loaded (see `reset`). */
  private readonly cmn: { cmn: ps.Handle; initial: Float32Array } | undefined;
  private inUtterance = false;
  private disposed = false;
  /** Whether an utterance has ended since the last reset, so the cepstral mean has adapted. */
  private adapted = false;
  /** The current utterance's audio, kept only while it may be decoded again. */
  private firstAudio: Int16Array[] = [];

  constructor(
    private readonly decoder: ps.Handle,
    private readonly config: ps.Handle,
    private readonly redecodeFirst: boolean,
  ) {
    this.logmath = ps.ps_get_logmath(decoder);
    const live = ps.liveCmn(decoder);
    if (live) {
      const initial = new Float32Array(live.veclen);
      ps.cmn_live_get(live.cmn, initial);
      this.cmn = { cmn: live.cmn, initial };
    }
  }

  /** Whether `reset` can restore the channel normalisation (false if the library layout differs). */
  get resetsAdaptation(): boolean {
    return this.cmn !== undefined;
  }

  async startUtterance(): Promise<void> {
    if (this.inUtterance) await this.abandon();
    // Restarting the stream makes segment frames count from this utterance's first sample, which
    // is what the interface promises; the cepstral mean estimate carries over.
    check(ps.ps_start_stream(this.decoder), "ps_start_stream");
    check(ps.ps_start_utt(this.decoder), "ps_start_utt");
    this.inUtterance = true;
    this.firstAudio = [];
  }

  async accept(pcm: Int16Array): Promise<void> {
    if (!this.inUtterance) throw new Error("accept() outside an utterance");
    if (pcm.length === 0) return;
    if (this.redecodeFirst && !this.adapted && this.cmn) this.firstAudio.push(pcm.slice());
    const rc = await ps.callAsync<number>(ps.ps_process_raw, this.decoder, pcm, pcm.length, 0, 0);
    if (rc < 0) throw new Error(`ps_process_raw failed (${rc})`);
  }

  async partial(): Promise<Hypothesis> {
    return { words: this.inUtterance ? this.segments(false) : [], decodedSeconds: this.decodedSeconds() };
  }

  async endUtterance(): Promise<Hypothesis> {
    if (!this.inUtterance) return { words: [], decodedSeconds: 0 };
    this.inUtterance = false;
    check(await ps.callAsync<number>(ps.ps_end_utt, this.decoder), "ps_end_utt");
    const decodedSeconds = this.decodedSeconds();
    if (!this.adapted) {
      this.adapted = true;
      const audio = concat(this.firstAudio);
      this.firstAudio = [];
      // Live CMN starts each session from the model's generic estimate and only updates at the
      // end of an utterance, so the first one is decoded with a mean that may not fit the line
      // at all (8 kHz telephone audio is the worst case). Now that it has adapted, decode that
      // utterance again; its final costs one more decoding pass, later utterances nothing.
      if (audio.length > 0) {
        check(ps.ps_start_stream(this.decoder), "ps_start_stream");
        check(ps.ps_start_utt(this.decoder), "ps_start_utt");
        const rc = await ps.callAsync<number>(ps.ps_process_raw, this.decoder, audio, audio.length, 0, 0);
        if (rc < 0) throw new Error(`ps_process_raw failed (${rc})`);
        check(await ps.callAsync<number>(ps.ps_end_utt, this.decoder), "ps_end_utt");
      }
    }
    // The first seg_iter after the utterance runs the lattice search and posterior computation,
    // which can take a while on long utterances: do it off the event loop.
    const first = await ps.callAsync<ps.Handle>(ps.ps_seg_iter, this.decoder);
    return { words: this.collect(first, true), decodedSeconds };
  }

  async reset(): Promise<void> {
    await this.abandon();
    // Live cepstral mean normalisation adapts to the channel across utterances. A pooled decoder
    // would otherwise start the next session tuned to the last caller's line (an 8 kHz phone
    // call before a studio recording ruins the first sentence), so it goes back to the model's
    // initial estimate.
    if (this.cmn) ps.cmn_live_set(this.cmn.cmn, this.cmn.initial);
    this.adapted = false;
    this.firstAudio = [];
  }

  private async abandon(): Promise<void> {
    if (!this.inUtterance) return;
    this.inUtterance = false;
    check(await ps.callAsync<number>(ps.ps_end_utt, this.decoder), "ps_end_utt");
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.abandon();
    ps.ps_free(this.decoder);
    ps.cmd_ln_free_r(this.config);
  }

  private decodedSeconds(): number {
    return ps.ps_get_n_frames(this.decoder) / FRAMES_PER_SECOND;
  }

  private segments(final: boolean): RecognisedWord[] {
    return this.collect(ps.ps_seg_iter(this.decoder), final);
  }

  private collect(first: ps.Handle, final: boolean): RecognisedWord[] {
    const words: RecognisedWord[] = [];
    const sf = [0];
    const ef = [0];
    const scratch = [0];
    for (let seg = first; seg; seg = ps.ps_seg_next(seg)) {
      const word = ps.ps_seg_word(seg) as string;
      if (isFiller(word)) continue;
      ps.ps_seg_frames(seg, sf, ef);
      // Only the lattice behind a finished utterance has posteriors; mid-utterance the search
      // reports 0 (probability 1), which would be a lie.
      const confidence = final ? ps.logmath_exp(this.logmath, ps.ps_seg_prob(seg, scratch, scratch, scratch)) : undefined;
      words.push({
        word: baseWord(word),
        start: sf[0] / FRAMES_PER_SECOND,
        // ef is the last frame of the word, inclusive.
        end: (ef[0] + 1) / FRAMES_PER_SECOND,
        confidence: confidence === undefined ? undefined : Math.min(1, Math.max(0, confidence)),
      });
    }
    return words;
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function check(rc: number, what: string): void {
  if (rc < 0) throw new Error(`${what} failed (${rc})`);
}
