// The engine seam: the protocol code only talks to this interface, so a better engine can
// replace PocketSphinx without touching sessions, messages or the server.

export interface RecognisedWord {
  /** Lower-case word as the engine spells it, without pronunciation variants or fillers. */
  word: string;
  /** Seconds from the start of the utterance. */
  start: number;
  end: number;
  /** Posterior probability in [0, 1], or undefined when the engine has none yet (partials). */
  confidence: number | undefined;
}

export interface Hypothesis {
  words: RecognisedWord[];
  /** Seconds of audio the engine has decoded in this utterance. */
  decodedSeconds: number;
}

export interface EngineInfo {
  name: string;
  version: string;
  arch: string;
  /** Stable identifier reported as Deepgram's `model_uuid`. */
  uuid: string;
}

/**
 * One decoder, used by one channel of one session at a time. Calls are serialised by the caller:
 * no method is called while a promise from another is pending.
 */
export interface Recogniser {
  /** PCM sample rate `accept` expects (mono, signed 16-bit). */
  readonly sampleRate: number;
  readonly info: EngineInfo;
  startUtterance(): Promise<void>;
  accept(pcm: Int16Array): Promise<void>;
  /** The best hypothesis so far; word confidences are not yet known. */
  partial(): Promise<Hypothesis>;
  /** Ends the utterance and returns the final hypothesis with confidences. */
  endUtterance(): Promise<Hypothesis>;
  /** Abandons any utterance in progress so the decoder can serve another session. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}
