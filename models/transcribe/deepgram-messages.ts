// Builders for the JSON messages Deepgram's live API sends (protocol.md §5.2), field for field
// as @deepgram/sdk 5.13.0 types them, so the SDK's own parsers accept them.
import type { EngineInfo, RecognisedWord } from "./recogniser.js";

export interface DeepgramWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
  punctuated_word?: string;
}

export interface ResultsMessage {
  type: "Results";
  channel_index: [number, number];
  duration: number;
  start: number;
  is_final: boolean;
  speech_final: boolean;
  from_finalize: boolean;
  channel: { alternatives: { transcript: string; confidence: number; words: DeepgramWord[] }[] };
  metadata: { request_id: string; model_uuid: string; model_info: { name: string; version: string; arch: string } };
}

/** Deepgram reports times in seconds; milliseconds are as precise as this engine gets. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

export interface ResultsInput {
  requestId: string;
  engine: EngineInfo;
  channel: number;
  channels: number;
  /** Seconds from the start of the stream. */
  start: number;
  duration: number;
  isFinal: boolean;
  speechFinal: boolean;
  fromFinalize: boolean;
  /** Word times already relative to the start of the stream. */
  words: RecognisedWord[];
  /**
   * With `punctuate`/`smart_format`: capitalise the first word (it starts a sentence) and end
   * the last with a full stop (the speaker paused). The engine itself produces neither.
   */
  punctuation: { sentenceStart: boolean; sentenceEnd: boolean } | undefined;
}

export function buildResults(r: ResultsInput): ResultsMessage {
  const words: DeepgramWord[] = r.words.map((w, i) => {
    const out: DeepgramWord = {
      word: w.word,
      start: round(w.start),
      end: round(w.end),
      // PocketSphinx has no confidence before the utterance ends (see README).
      confidence: round(w.confidence ?? 0),
    };
    if (r.punctuation) {
      let p = w.word === "i" || w.word.startsWith("i'") ? "I" + w.word.slice(1) : w.word;
      if (i === 0 && r.punctuation.sentenceStart) p = p.charAt(0).toUpperCase() + p.slice(1);
      if (i === r.words.length - 1 && r.punctuation.sentenceEnd) p += ".";
      out.punctuated_word = p;
    }
    return out;
  });
  const transcript = words.map((w) => w.punctuated_word ?? w.word).join(" ");
  const confidence = words.length ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
  return {
    type: "Results",
    channel_index: [r.channel, r.channels],
    duration: round(r.duration),
    start: round(r.start),
    is_final: r.isFinal,
    speech_final: r.speechFinal,
    from_finalize: r.fromFinalize,
    channel: { alternatives: [{ transcript, confidence: round(confidence), words }] },
    metadata: {
      request_id: r.requestId,
      model_uuid: r.engine.uuid,
      model_info: { name: r.engine.name, version: r.engine.version, arch: r.engine.arch },
    },
  };
}

export function buildSpeechStarted(channel: number, channels: number, timestamp: number) {
  return { type: "SpeechStarted" as const, channel: [channel, channels], timestamp: round(timestamp) };
}

export function buildUtteranceEnd(channel: number, channels: number, lastWordEnd: number) {
  return { type: "UtteranceEnd" as const, channel: [channel, channels], last_word_end: round(lastWordEnd) };
}

export interface MetadataInput {
  requestId: string;
  engine: EngineInfo;
  /** Hex SHA-256 of every audio byte received. */
  sha256: string;
  created: Date;
  /** Seconds of audio received. */
  duration: number;
  channels: number;
}

export function buildMetadata(m: MetadataInput) {
  return {
    type: "Metadata" as const,
    // Deepgram sends this literal: the field is kept for old clients.
    transaction_key: "deprecated",
    request_id: m.requestId,
    sha256: m.sha256,
    created: m.created.toISOString(),
    duration: round(m.duration),
    channels: m.channels,
    models: [m.engine.uuid],
    model_info: { [m.engine.uuid]: { name: m.engine.name, version: m.engine.version, arch: m.engine.arch } },
  };
}

/** Deepgram's JSON error body for a refused handshake. */
export function buildErrorBody(errCode: string, errMsg: string, requestId: string) {
  return { err_code: errCode, err_msg: errMsg, request_id: requestId };
}
