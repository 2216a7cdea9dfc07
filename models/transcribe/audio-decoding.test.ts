import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AudioDecodeError, StreamDecoder, parseWavHeader } from "./audio-decoding.js";

function wavHeader(opts: { tag?: number; channels?: number; rate?: number; bits?: number; dataBytes?: number; extraChunk?: boolean } = {}): Buffer {
  const { tag = 1, channels = 1, rate = 16000, bits = 16, dataBytes = 0, extraChunk = false } = opts;
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "latin1");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(tag, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  const list = Buffer.from("LIST\x03\x00\x00\x00abc\x00", "latin1"); // odd size: padded
  const data = Buffer.alloc(8);
  data.write("data", 0, "latin1");
  data.writeUInt32LE(dataBytes, 4);
  const riff = Buffer.from("RIFF\x00\x00\x00\x00WAVE", "latin1");
  return Buffer.concat([riff, fmt, ...(extraChunk ? [list] : []), data]);
}

function s16(...samples: number[]): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
}

describe("audio decoding", () => {
  it("decodes raw linear16 with samples split across frames", () => {
    const d = new StreamDecoder({ sample: "s16le", sampleRate: 16000, channels: 1 });
    const bytes = s16(1, -2, 300, -32768);
    const a = d.push(bytes.subarray(0, 3))!;
    const b = d.push(bytes.subarray(3))!;
    assert.deepEqual([...a[0], ...b[0]], [1, -2, 300, -32768]);
  });

  it("de-interleaves channels", () => {
    const d = new StreamDecoder({ sample: "s16le", sampleRate: 8000, channels: 2 });
    const [l, r] = d.push(s16(1, 2, 3, 4, 5))!;
    assert.deepEqual([...l], [1, 3]);
    assert.deepEqual([...r], [2, 4]);
    assert.deepEqual([...d.push(s16(6))![0]], [5]);
  });

  it("expands G.711 mu-law and A-law like the reference tables", () => {
    const mu = new StreamDecoder({ sample: "mulaw", sampleRate: 8000, channels: 1 });
    // 0xFF and 0x7F are the two zeros of mu-law; 0x00 and 0x80 its extremes.
    assert.deepEqual([...mu.push(Buffer.from([0xff, 0x7f, 0x00, 0x80]))![0]], [0, 0, -32124, 32124]);
    const a = new StreamDecoder({ sample: "alaw", sampleRate: 8000, channels: 1 });
    // 0xD5 / 0x55 are A-law's smallest positive / negative steps; 0xAA / 0x2A its extremes.
    assert.deepEqual([...a.push(Buffer.from([0xd5, 0x55, 0xaa, 0x2a]))![0]], [8, -8, 32256, -32256]);
  });

  it("reads the format from a WAV header split anywhere, skipping other chunks", () => {
    const header = wavHeader({ channels: 2, rate: 44100, extraChunk: true });
    const body = s16(10, 20, 30, 40);
    const bytes = Buffer.concat([header, body]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = new StreamDecoder(undefined);
      const first = d.push(bytes.subarray(0, cut));
      const second = d.push(bytes.subarray(cut));
      const left = [...(first?.[0] ?? []), ...(second?.[0] ?? [])];
      assert.deepEqual(left, [10, 30], `cut at ${cut}`);
      assert.deepEqual(d.format, { sample: "s16le", sampleRate: 44100, channels: 2 });
    }
  });

  it("stops at the end of a WAV data chunk of known size", () => {
    const d = new StreamDecoder(undefined);
    const out = d.push(Buffer.concat([wavHeader({ dataBytes: 4 }), s16(1, 2), Buffer.from("id3 trailing metadata")]))!;
    assert.deepEqual([...out[0]], [1, 2]);
  });

  it("lets a WAV header override an explicit encoding, so header bytes are not audio", () => {
    const d = new StreamDecoder({ sample: "s16le", sampleRate: 16000, channels: 1 });
    const out = d.push(Buffer.concat([wavHeader({ tag: 7, bits: 8, rate: 8000 }), Buffer.from([0xff, 0x00])]))!;
    assert.deepEqual(d.format, { sample: "mulaw", sampleRate: 8000, channels: 1 });
    assert.deepEqual([...out[0]], [0, -32124]);
  });

  it("refuses a stream that is neither WAV nor given an encoding", () => {
    const d = new StreamDecoder(undefined);
    assert.throws(() => d.push(Buffer.from("OggS\x00\x02 definitely not wav")), AudioDecodeError);
    assert.throws(() => new StreamDecoder(undefined).push(Buffer.from("ID3")), AudioDecodeError);
  });

  it("refuses WAV encodings it cannot decode", () => {
    assert.throws(() => parseWavHeader(wavHeader({ tag: 0x55, bits: 0 })), /unsupported WAV format/);
    assert.throws(() => parseWavHeader(wavHeader({ tag: 1, bits: 12 })), /unsupported WAV format/);
  });

  it("refuses WAV headers with rates or channel counts outside what the parameters allow", () => {
    assert.throws(() => parseWavHeader(wavHeader({ rate: 1 })), /sample rate of 1 Hz/);
    assert.throws(() => parseWavHeader(wavHeader({ rate: 1_000_000 })), /sample rate/);
    assert.throws(() => parseWavHeader(wavHeader({ channels: 0 })), /0 channels/);
    assert.throws(() => parseWavHeader(wavHeader({ channels: 17 })), /17 channels/);
  });

  it("decodes 8-bit, 24-bit, 32-bit and float WAV samples to 16 bits", () => {
    const cases: [number, number, Buffer, number][] = [
      [1, 8, Buffer.from([0x80 + 64]), 64 << 8],
      [1, 24, Buffer.from([0x00, 0x00, 0x40]), 0x4000],
      [1, 32, Buffer.from([0x00, 0x00, 0x00, 0xc0]), -0x4000],
      [3, 32, (() => { const b = Buffer.alloc(4); b.writeFloatLE(-0.5); return b; })(), -16384],
    ];
    for (const [tag, bits, sample, expected] of cases) {
      const d = new StreamDecoder(undefined);
      const out = d.push(Buffer.concat([wavHeader({ tag, bits }), sample]))!;
      assert.equal(out[0][0], expected, `${bits}-bit tag ${tag}`);
    }
  });
});
