// Deepgram's live query parameters (protocol.md §5.1): validated at the handshake so that a bad
// value is refused with HTTP 400 before any audio flows. Unknown names are accepted (and
// reported so the caller can log them), as Deepgram does for forward compatibility.

import { MAX_SAMPLE_RATE, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE } from "./audio-decoding.js";

export type RawEncoding = "linear16" | "linear32" | "mulaw" | "alaw";

export interface ListenOptions {
  model: string;
  language: string;
  /** Undefined: the stream must be a WAV file, recognised from its header. */
  encoding: RawEncoding | undefined;
  sampleRate: number | undefined;
  channels: number;
  multichannel: boolean;
  interimResults: boolean;
  /** Silence (ms) after speech that ends an utterance with speech_final, or false for never. */
  endpointingMs: number | false;
  utteranceEndMs: number | undefined;
  vadEvents: boolean;
  punctuate: boolean;
  smartFormat: boolean;
  tags: string[];
  keywords: string[];
  keyterms: string[];
  /** Known parameters that were given but that this engine does not honour. */
  notHonoured: string[];
  /** Parameter names this model does not know. */
  unknown: string[];
}

export class ParamError extends Error {}

const SUPPORTED_ENCODINGS = new Set<string>(["linear16", "linear32", "mulaw", "alaw"]);
// Deepgram encodings this engine cannot decode: refused at the handshake rather than failing
// later with DATA-0000.
const OTHER_DEEPGRAM_ENCODINGS = new Set(["flac", "amr-nb", "amr-wb", "opus", "ogg-opus", "speex", "g729"]);

/** Deepgram defaults `endpointing` to 10 ms. */
export const DEFAULT_ENDPOINTING_MS = 10;
export const MAX_CHANNELS = MAX_WAV_CHANNELS;
const REDACT_VALUES = new Set(["true", "false", "pci", "numbers", "aggressive_numbers", "ssn"]);

// Accepted and validated, but without effect on this engine (README "Parameters").
const NOT_HONOURED_BOOLEANS = ["diarize", "dictation", "numerals", "profanity_filter", "mip_opt_out", "detect_entities", "filler_words", "no_delay"];
const NOT_HONOURED_FREE = ["replace", "search", "extra", "callback", "callback_method", "version", "diarize_model", "redact", "keywords", "keyterm"];
const HONOURED = [
  "model",
  "language",
  "encoding",
  "sample_rate",
  "channels",
  "multichannel",
  "interim_results",
  "endpointing",
  "utterance_end_ms",
  "vad_events",
  "punctuate",
  "smart_format",
  "tag",
];
const KNOWN = new Set([...HONOURED, ...NOT_HONOURED_BOOLEANS, ...NOT_HONOURED_FREE]);

function bool(q: URLSearchParams, name: string, fallback = false): boolean {
  const v = q.get(name);
  if (v === null) return fallback;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new ParamError(`Invalid value for '${name}': '${v}' (expected true or false)`);
}

function int(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ParamError(`Invalid value for '${name}': '${v}' (expected an integer from ${min} to ${max})`);
  }
  return n;
}

/** Throws ParamError with a message fit for the client when a known parameter is invalid. */
export function parseListenParams(q: URLSearchParams): ListenOptions {
  const model = q.get("model") ?? "nova-3";
  if (model.length === 0 || model.length > 200) throw new ParamError(`Invalid value for 'model': '${model}'`);

  const language = q.get("language") ?? "en";
  // One acoustic model: US English. Any English variant is served by it; other languages are
  // refused rather than silently transcribed as English.
  if (!/^en([-_][A-Za-z0-9]{2,8})?$/i.test(language)) {
    throw new ParamError(`Invalid value for 'language': '${language}' (this model transcribes English only)`);
  }

  const encodingRaw = q.get("encoding") ?? undefined;
  if (encodingRaw !== undefined && !SUPPORTED_ENCODINGS.has(encodingRaw)) {
    const why = OTHER_DEEPGRAM_ENCODINGS.has(encodingRaw) ? "is not supported by this model" : "is not a known encoding";
    throw new ParamError(`Invalid value for 'encoding': '${encodingRaw}' ${why} (use linear16, linear32, mulaw or alaw, or send WAV without 'encoding')`);
  }
  const encoding = encodingRaw as RawEncoding | undefined;
  const sampleRate = int(q, "sample_rate", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);
  if (encoding !== undefined && sampleRate === undefined) {
    throw new ParamError(`'sample_rate' is required when 'encoding' is set`);
  }

  const channels = int(q, "channels", 1, MAX_CHANNELS) ?? 1;
  const multichannel = bool(q, "multichannel");
  const interimResults = bool(q, "interim_results");
  const vadEvents = bool(q, "vad_events");
  const punctuate = bool(q, "punctuate");
  const smartFormat = bool(q, "smart_format");

  let endpointingMs: number | false = DEFAULT_ENDPOINTING_MS;
  const ep = q.get("endpointing");
  if (ep === "false") endpointingMs = false;
  else if (ep === "true") endpointingMs = DEFAULT_ENDPOINTING_MS;
  else if (ep !== null) endpointingMs = int(q, "endpointing", 0, 600000) as number;

  const utteranceEndMs = int(q, "utterance_end_ms", 0, 600000);

  for (const name of NOT_HONOURED_BOOLEANS) bool(q, name);
  const redact = q.getAll("redact");
  for (const r of redact) if (!REDACT_VALUES.has(r)) throw new ParamError(`Invalid value for 'redact': '${r}'`);

  const notHonoured = [...new Set([...q.keys()].filter((k) => NOT_HONOURED_BOOLEANS.includes(k) || NOT_HONOURED_FREE.includes(k)))];
  const unknown = [...new Set([...q.keys()].filter((k) => !KNOWN.has(k)))];

  return {
    model,
    language,
    encoding,
    sampleRate,
    channels,
    multichannel,
    interimResults,
    endpointingMs,
    utteranceEndMs,
    vadEvents,
    punctuate,
    smartFormat,
    tags: q.getAll("tag"),
    keywords: q.getAll("keywords"),
    keyterms: q.getAll("keyterm"),
    notHonoured,
    unknown,
  };
}
