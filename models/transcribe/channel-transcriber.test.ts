// The event logic of one channel, against a scripted recogniser: which Results, SpeechStarted
// and UtteranceEnd come out for a known timeline of words.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelTranscriber, type ChannelEvent, type ChannelOptions, type TranscriberSettings } from "./channel-transcriber.js";
import type { EngineInfo, Hypothesis, Recogniser } from "./recogniser.js";

const RATE = 1000; // one sample per millisecond keeps the arithmetic readable

/** Words at fixed stream times; a word is visible once the decoder has passed its start. */
class ScriptedRecogniser implements Recogniser {
  readonly sampleRate = RATE;
  readonly info: EngineInfo = { name: "scripted", version: "0", arch: "test", uuid: "u" };
  stream = 0;
  private uttStart = 0;
  private inUtt = false;
  calls: string[] = [];
  constructor(private readonly script: { word: string; start: number; end: number }[]) {}
  async startUtterance() {
    this.calls.push("start");
    this.inUtt = true;
    this.uttStart = this.stream;
  }
  async accept(pcm: Int16Array) {
    assert.ok(this.inUtt, "accept outside an utterance");
    this.stream += pcm.length / RATE;
  }
  private hyp(final: boolean): Hypothesis {
    const words = this.script
      .filter((w) => w.start >= this.uttStart - 1e-9 && w.start < this.stream - 1e-9)
      .map((w) => ({ word: w.word, start: w.start - this.uttStart, end: Math.min(w.end, this.stream) - this.uttStart, confidence: final ? 0.9 : undefined }));
    return { words, decodedSeconds: this.stream - this.uttStart };
  }
  async partial() {
    return this.hyp(false);
  }
  async endUtterance() {
    this.calls.push("end");
    this.inUtt = false;
    return this.hyp(true);
  }
  async reset() {
    this.calls.push("reset");
    this.inUtt = false;
  }
  async dispose() {}
}

const SETTINGS: TranscriberSettings = { chunkMs: 100, interimIntervalMs: 500, minEndpointingMs: 300, maxUtteranceMs: 4000 };
const OPTIONS: ChannelOptions = { interimResults: true, endpointingMs: 10, utteranceEndMs: 1000, vadEvents: true };

async function run(script: { word: string; start: number; end: number }[], seconds: number, options = OPTIONS, settings = SETTINGS, control?: (t: ChannelTranscriber) => void) {
  const events: ChannelEvent[] = [];
  const rec = new ScriptedRecogniser(script);
  let idle!: () => void;
  const t = new ChannelTranscriber(rec, RATE, options, settings, (e) => events.push(e), (err) => {
    if (err) throw err;
    idle?.();
  });
  // Arrives in uneven pieces, as audio does.
  const total = Math.round(seconds * RATE);
  for (let at = 0; at < total; at += 333) t.push(new Int16Array(Math.min(333, total - at)));
  control?.(t);
  await t.close();
  return { events, rec };
}

const text = (e: ChannelEvent) => (e.kind === "results" ? e.words.map((w) => w.word).join(" ") : e.kind);

describe("channel transcriber", () => {
  const script = [
    { word: "hello", start: 0.5, end: 0.9 },
    { word: "there", start: 0.95, end: 1.4 },
    { word: "again", start: 3.0, end: 3.5 },
  ];

  it("ends an utterance after the endpointing window (raised to the minimum) with speech_final", async () => {
    const { events } = await run(script, 5);
    const finals = events.filter((e) => e.kind === "results" && e.isFinal);
    assert.deepEqual(finals.map(text), ["hello there", "again", ""]);
    const first = finals[0] as Extract<ChannelEvent, { kind: "results" }>;
    assert.equal(first.speechFinal, true);
    assert.equal(first.start, 0);
    // 1.4 s last word + 0.3 s minimum window, decided on a 100 ms chunk boundary.
    assert.ok(Math.abs(first.duration - 1.7) < 1e-9, String(first.duration));
    assert.equal((finals[1] as Extract<ChannelEvent, { kind: "results" }>).start, first.duration);
  });

  it("announces speech, then UtteranceEnd once utterance_end_ms passes after the last word", async () => {
    const { events } = await run(script, 5);
    const kinds = events.filter((e) => e.kind !== "results" || e.isFinal).map((e) => (e.kind === "results" ? `final:${text(e)}` : e.kind));
    assert.deepEqual(kinds, ["speech-started", "final:hello there", "utterance-end", "speech-started", "final:again", "utterance-end", "final:"]);
    const ends = events.filter((e): e is Extract<ChannelEvent, { kind: "utterance-end" }> => e.kind === "utterance-end");
    assert.deepEqual(ends.map((e) => Math.round(e.lastWordEnd * 1000) / 1000), [1.4, 3.5]);
    const started = events.filter((e): e is Extract<ChannelEvent, { kind: "speech-started" }> => e.kind === "speech-started");
    assert.deepEqual(started.map((e) => Math.round(e.timestamp * 1000) / 1000), [0.5, 3]);
  });

  it("sends an interim at least every 500 ms of decoded audio", async () => {
    const { events } = await run(script, 5);
    const results = events.filter((e): e is Extract<ChannelEvent, { kind: "results" }> => e.kind === "results");
    let last = 0;
    let start = 0;
    for (const r of results) {
      if (r.start !== start) {
        start = r.start;
        last = 0;
      }
      assert.ok(r.duration - last <= 0.5 + 1e-9, `gap ${r.duration - last} at ${r.start}`);
      last = r.isFinal ? 0 : r.duration;
    }
    // The first sentence was visible before its final.
    const firstFinal = results.findIndex((r) => r.isFinal);
    assert.ok(results.slice(0, firstFinal).some((r) => !r.isFinal && r.words.length === 2));
  });

  it("with endpointing=false, finalises only at the utterance length cap and at close", async () => {
    const { events } = await run(script, 5, { ...OPTIONS, endpointingMs: false, interimResults: false });
    const finals = events.filter((e): e is Extract<ChannelEvent, { kind: "results" }> => e.kind === "results" && e.isFinal);
    assert.deepEqual(finals.map(text), ["hello there again", ""]);
    assert.equal(finals[0].speechFinal, false);
    assert.equal(finals[0].duration, 4);
  });

  it("answers Finalize with from_finalize after the audio queued before it", async () => {
    const { events } = await run(script.slice(0, 2), 1.2, { ...OPTIONS, endpointingMs: false }, SETTINGS, (t) => t.finalize());
    const flushed = events.find((e): e is Extract<ChannelEvent, { kind: "results" }> => e.kind === "results" && e.fromFinalize);
    assert.ok(flushed);
    assert.equal(flushed.isFinal, true);
    assert.equal(flushed.speechFinal, false);
    assert.equal(text(flushed), "hello there");
    assert.equal(flushed.duration, 1.2);
  });

  it("resamples other input rates and accounts for the resampler's tail in the backlog", async () => {
    const rec = new ScriptedRecogniser(script);
    const t = new ChannelTranscriber(rec, 3 * RATE, OPTIONS, SETTINGS, () => undefined, () => undefined);
    for (let i = 0; i < 10; i++) t.push(new Int16Array(1500));
    await t.close();
    assert.ok(Math.abs(rec.stream - 5) < 0.01, `decoded ${rec.stream} s of 5 s`);
    assert.equal(t.backlogSeconds, 0);
    assert.equal(t.idle, true);
  });

  it("leaves the recogniser reset after close, and after abort", async () => {
    const { rec } = await run(script, 2);
    assert.equal(rec.calls.at(-1), "reset");
    const rec2 = new ScriptedRecogniser(script);
    const t = new ChannelTranscriber(rec2, RATE, OPTIONS, SETTINGS, () => undefined, () => undefined);
    t.push(new Int16Array(5000));
    await t.abort();
    assert.equal(rec2.calls.at(-1), "reset");
    assert.ok(rec2.stream < 5, "abort stops decoding what is still queued");
  });
});
