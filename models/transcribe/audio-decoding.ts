// Turns the bytes of a stream into 16-bit PCM, one array per channel: raw linear16/linear32,
// G.711 mu-law and A-law as Deepgram's `encoding` names them, or a WAV stream recognised from
// its header when no encoding was given. Chunks may split samples and headers anywhere.

export type SampleFormat = "s16le" | "s32le" | "u8" | "s24le" | "f32le" | "mulaw" | "alaw";

export interface AudioFormat {
  sample: SampleFormat;
  sampleRate: number;
  channels: number;
}

/** The audio cannot be decoded: Deepgram closes with 1008 DATA-0000. */
export class AudioDecodeError extends Error {}

const BYTES: Record<SampleFormat, number> = { s16le: 2, s32le: 4, u8: 1, s24le: 3, f32le: 4, mulaw: 1, alaw: 1 };

// G.711 expansion tables (ITU-T G.711), built once.
const MULAW = new Int16Array(256);
const ALAW = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  MULAW[i] = u & 0x80 ? 0x84 - t : t - 0x84;
  const a = i ^ 0x55;
  let m = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) m += 8;
  else if (seg === 1) m += 0x108;
  else m = (m + 0x108) << (seg - 1);
  ALAW[i] = a & 0x80 ? m : -m;
}

/** The rates and channel counts the `sample_rate`/`channels` parameters allow, for WAV headers too. */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 768000;
export const MAX_WAV_CHANNELS = 16;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface WavHeader {
  format: AudioFormat;
  /** Offset of the first sample. */
  dataOffset: number;
  /** Bytes of samples the header declares, or undefined for a stream of unknown length. */
  dataBytes: number | undefined;
}

/** Whether the bytes start like a RIFF/WAVE file (needs 12 bytes to say yes). */
export function looksLikeWav(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WAVE";
}

/**
 * Parses a WAV header from the start of a stream. Returns undefined if more bytes are needed,
 * throws AudioDecodeError if this is not WAV audio we can decode.
 */
export function parseWavHeader(bytes: Buffer): WavHeader | undefined {
  if (bytes.length < 12) {
    if (!"RIFF".startsWith(bytes.toString("latin1", 0, Math.min(4, bytes.length)))) throw new AudioDecodeError("not a WAV stream");
    return undefined;
  }
  if (!looksLikeWav(bytes)) throw new AudioDecodeError("not a WAV stream");
  let at = 12;
  let format: AudioFormat | undefined;
  for (;;) {
    if (bytes.length < at + 8) return undefined;
    const id = bytes.toString("latin1", at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "data") {
      if (!format) throw new AudioDecodeError("WAV data chunk before its fmt chunk");
      // Streaming writers put 0 or 0xFFFFFFFF here when the length is not known up front.
      const dataBytes = size === 0 || size === 0xffffffff ? undefined : size;
      return { format, dataOffset: body, dataBytes };
    }
    if (id === "fmt ") {
      if (bytes.length < body + Math.min(size, 40)) return undefined;
      format = parseFmt(bytes.subarray(body, body + size));
    }
    at = body + size + (size & 1);
  }
}

function parseFmt(fmt: Buffer): AudioFormat {
  if (fmt.length < 16) throw new AudioDecodeError("WAV fmt chunk too short");
  let tag = fmt.readUInt16LE(0);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const bits = fmt.readUInt16LE(14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (fmt.length < 26) throw new AudioDecodeError("WAV extensible fmt chunk too short");
    // The sub-format GUID starts with the plain format tag.
    tag = fmt.readUInt16LE(24);
  }
  if (channels < 1 || channels > MAX_WAV_CHANNELS) throw new AudioDecodeError(`WAV header declares ${channels} channels`);
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) throw new AudioDecodeError(`WAV header declares a sample rate of ${sampleRate} Hz`);
  let sample: SampleFormat | undefined;
  if (tag === WAVE_FORMAT_PCM) sample = ({ 8: "u8", 16: "s16le", 24: "s24le", 32: "s32le" } as const)[bits as 8 | 16 | 24 | 32];
  else if (tag === WAVE_FORMAT_IEEE_FLOAT && bits === 32) sample = "f32le";
  else if (tag === WAVE_FORMAT_MULAW && bits === 8) sample = "mulaw";
  else if (tag === WAVE_FORMAT_ALAW && bits === 8) sample = "alaw";
  if (!sample) throw new AudioDecodeError(`unsupported WAV format (tag ${tag}, ${bits} bits)`);
  return { sample, sampleRate, channels };
}

/** Converts complete frames of interleaved samples to one Int16Array per channel. */
export function deinterleave(bytes: Buffer, format: AudioFormat): Int16Array[] {
  const width = BYTES[format.sample];
  const n = format.channels;
  const frames = Math.floor(bytes.length / (width * n));
  const out = Array.from({ length: n }, () => new Int16Array(frames));
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < n; c++) {
      const at = (f * n + c) * width;
      out[c][f] = sampleAt(bytes, at, format.sample);
    }
  }
  return out;
}

function sampleAt(b: Buffer, at: number, sample: SampleFormat): number {
  switch (sample) {
    case "s16le":
      return b.readInt16LE(at);
    case "s32le":
      return b.readInt32LE(at) >> 16;
    case "s24le":
      return b.readIntLE(at, 3) >> 8;
    case "u8":
      return (b[at] - 128) << 8;
    case "f32le":
      return Math.max(-32768, Math.min(32767, Math.round(b.readFloatLE(at) * 32768)));
    case "mulaw":
      return MULAW[b[at]];
    case "alaw":
      return ALAW[b[at]];
  }
}

/**
 * Stateful decoder for one session. With a known format it decodes raw samples; without, it
 * waits for a WAV header (up to `maxHeaderBytes`) and takes the format from it.
 */
export class StreamDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private formatKnown: AudioFormat | undefined;
  private remainingData: number | undefined;
  private headerSeen = false;

  constructor(
    format: AudioFormat | undefined,
    private readonly maxHeaderBytes = 1 << 20,
  ) {
    this.formatKnown = format;
  }

  /** The format, once known (immediately for raw encodings, after the header for WAV). */
  get format(): AudioFormat | undefined {
    return this.formatKnown;
  }

  /** Decodes what it can; returns undefined while still waiting for a header. */
  push(chunk: Buffer): Int16Array[] | undefined {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.headerSeen) {
      if (this.detect() === "wait") return undefined;
      this.headerSeen = true;
    }
    if (!this.formatKnown) return undefined;
    let usable = this.pending;
    if (this.remainingData !== undefined) {
      usable = usable.subarray(0, this.remainingData);
    }
    const frameBytes = BYTES[this.formatKnown.sample] * this.formatKnown.channels;
    const whole = usable.length - (usable.length % frameBytes);
    const out = deinterleave(usable.subarray(0, whole), this.formatKnown);
    if (this.remainingData !== undefined) {
      this.remainingData -= whole;
      // Anything after the data chunk (LIST, id3 ...) is metadata, not audio.
      if (this.remainingData < frameBytes) {
        this.pending = Buffer.alloc(0);
        return out;
      }
    }
    this.pending = this.pending.subarray(whole);
    return out;
  }

  /**
   * A WAV file is recognised by its header even when an encoding was given (the header is then
   * authoritative), so header bytes are never decoded as audio.
   */
  private detect(): "wait" | "wav" | "raw" {
    const b = this.pending;
    const couldBeRiff = "RIFF".startsWith(b.toString("latin1", 0, Math.min(4, b.length)));
    if (b.length < 12 && couldBeRiff) return "wait";
    if (!looksLikeWav(b)) {
      if (this.formatKnown) return "raw";
      throw new AudioDecodeError("no encoding was given and the stream is not a WAV file");
    }
    const header = parseWavHeader(b);
    if (!header) {
      if (b.length > this.maxHeaderBytes) throw new AudioDecodeError("no WAV data chunk within the first bytes of the stream");
      return "wait";
    }
    this.formatKnown = header.format;
    this.remainingData = header.dataBytes;
    this.pending = b.subarray(header.dataOffset);
    return "wav";
  }
}
