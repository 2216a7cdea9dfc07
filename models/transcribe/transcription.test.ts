// Recognition through the real model process, with speech synthesised at test time: word error
// rate, interim timing, endpoints (speech_final, UtteranceEnd, SpeechStarted), Finalize, the
// 8 kHz mu-law and 44.1 kHz stereo WAV paths, and multichannel.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ListenClient, type ResultsMsg } from "./testing/listen-client.js";
import { startModel, type ModelProcess } from "./testing/model-process.js";
import { TestAudio, type Voice } from "./testing/test-audio.js";
import { wordErrorRate } from "./testing/wer.js";

// Plain sentences in both flite voices; all within the en-us language model's vocabulary.
const SENTENCES: [string, Voice][] = [
  ["the quick brown fox jumped over the lazy dog", "slt"],
  ["please call me back when you get home", "rms"],
  ["we need to buy some milk and bread today", "slt"],
  ["the weather is very nice this morning", "rms"],
  ["i would like to book a table for two people", "slt"],
  ["my phone number has changed since last year", "rms"],
  ["can you tell me where the train station is", "slt"],
  ["she opened the door and walked into the room", "rms"],
];

describe("transcription", () => {
  let model: ModelProcess;
  let audio: TestAudio;
  let spoken: string[];

  before(async () => {
    audio = await TestAudio.create();
    [model, spoken] = await Promise.all([
      startModel({ TRANSCRIBE_POOL_SIZE: "2" }),
      Promise.all(SENTENCES.map(([text, voice]) => audio.speak(text, voice))),
    ]);
  });
  after(async () => {
    await model?.stop();
    await audio?.remove();
  });

  it("transcribes eight sentences with pauses: WER under 20 %, interims before finals, speech_final, UtteranceEnd", async (t) => {
    const file = await audio.withPauses(spoken, 1.5);
    const c = await ListenClient.open(
      model.port,
      "model=nova-3&interim_results=true&utterance_end_ms=1000&vad_events=true&punctuate=true&endpointing=300",
    );
    await c.sendFile(file);
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });

    const reference = SENTENCES.map(([t]) => t).join(" ");
    const { wer, errors, words } = wordErrorRate(reference, c.finalTranscript());
    t.diagnostic(`WER ${(wer * 100).toFixed(1)} % (${errors}/${words}): ${c.finalTranscript()}`);
    assert.ok(wer < 0.2, `WER ${(wer * 100).toFixed(1)} % for: ${c.finalTranscript()}`);

    const msgs = c.messages;
    assert.equal(msgs.at(-1)?.type, "Metadata");
    const finals = c.results.filter((r) => r.is_final && r.channel.alternatives[0].words.length > 0);
    assert.ok(finals.length >= SENTENCES.length, `${finals.length} finals`);

    for (const final of finals) {
      const at = msgs.indexOf(final);
      const words = final.channel.alternatives[0].words;
      const lastWordEnd = words.at(-1)!.end;
      // The utterance was visible while it was still being spoken.
      const early = msgs
        .slice(0, at)
        .find((m) => m.type === "Results" && !(m as ResultsMsg).is_final && (m as ResultsMsg).start === final.start && (m as ResultsMsg).start + (m as ResultsMsg).duration < lastWordEnd && (m as ResultsMsg).channel.alternatives[0].words.length > 0);
      assert.ok(early, `no interim before the final "${final.channel.alternatives[0].transcript}"`);

      // Interims come at least every 500 ms of decoded audio of the utterance.
      const interims = msgs.slice(0, at).filter((m): m is ResultsMsg => m.type === "Results" && !(m as ResultsMsg).is_final && (m as ResultsMsg).start === final.start);
      let previous = 0;
      for (const i of interims) {
        assert.ok(i.duration - previous <= 0.5 + 1e-6, `interim gap ${i.duration - previous} s`);
        previous = i.duration;
      }

      for (const w of words) {
        assert.ok(w.start >= final.start && w.start < w.end && w.end <= final.start + final.duration + 1e-6, JSON.stringify(w));
        assert.ok(w.confidence >= 0 && w.confidence <= 1);
        assert.equal(typeof w.punctuated_word, "string");
      }
      assert.ok(final.channel.alternatives[0].confidence > 0 && final.channel.alternatives[0].confidence <= 1);
    }

    // Every pause ends the sentence before it: speech_final, then UtteranceEnd at its last word.
    const speechFinals = finals.filter((r) => r.speech_final);
    assert.ok(speechFinals.length >= SENTENCES.length - 1, `${speechFinals.length} speech_final`);
    assert.ok(speechFinals.every((r) => r.channel.alternatives[0].transcript.endsWith(".")));
    assert.match(speechFinals[0].channel.alternatives[0].transcript, /^The /);
    const ends = msgs.filter((m) => m.type === "UtteranceEnd") as unknown as { channel: number[]; last_word_end: number }[];
    assert.ok(ends.length >= SENTENCES.length - 1, `${ends.length} UtteranceEnd`);
    for (const e of ends) {
      const at = msgs.indexOf(e as never);
      const before = msgs.slice(0, at).filter((m): m is ResultsMsg => m.type === "Results" && (m as ResultsMsg).is_final && (m as ResultsMsg).channel.alternatives[0].words.length > 0);
      assert.equal(before.at(-1)!.channel.alternatives[0].words.at(-1)!.end, e.last_word_end);
      assert.deepEqual(e.channel, [0, 1]);
    }

    // vad_events: speech onset is announced before the first words of each sentence.
    const started = msgs.filter((m) => m.type === "SpeechStarted") as unknown as { timestamp: number }[];
    assert.ok(started.length >= SENTENCES.length - 1, `${started.length} SpeechStarted`);
    assert.ok(msgs.indexOf(started[0] as never) < msgs.findIndex((m) => m.type === "Results" && (m as ResultsMsg).channel.alternatives[0].words.length > 0));
  });

  it("answers Finalize with a final Results marked from_finalize", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3&endpointing=false");
    await c.sendFile(spoken[1]);
    c.control("Finalize");
    const flushed = await c.waitFor<ResultsMsg>((m) => m.type === "Results" && (m as ResultsMsg).from_finalize);
    assert.equal(flushed.is_final, true);
    assert.equal(flushed.channel.alternatives[0].transcript, "please call me back when you get home");
    // The session goes on after a Finalize.
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.messages.at(-1)?.type, "Metadata");
  });

  it("decodes 8 kHz mu-law given encoding and sample_rate", async (t) => {
    const joined = await audio.withPauses([spoken[7], spoken[1]], 1);
    const mulaw = await audio.convert(joined, "ul", ["-r", "8000", "-e", "mu-law", "-b", "8", "-t", "raw"]);
    const c = await ListenClient.open(model.port, "model=nova-3&encoding=mulaw&sample_rate=8000&channels=1");
    await c.sendFile(mulaw);
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    // Telephone-band audio through a 16 kHz wideband model: this relies on the first utterance
    // being decoded again once the channel normalisation has adapted (README "Engine limits").
    const { wer } = wordErrorRate(`${SENTENCES[7][0]} ${SENTENCES[1][0]}`, c.finalTranscript());
    t.diagnostic(`WER ${(wer * 100).toFixed(1)} %: ${c.finalTranscript()}`);
    assert.ok(wer < 0.2, `WER ${(wer * 100).toFixed(1)} % for: ${c.finalTranscript()}`);
  });

  it("recognises a 44.1 kHz stereo WAV from its header, mixed down to one channel", async () => {
    const stereo = await audio.stereo(spoken[5], spoken[5], ["-r", "44100", "-b", "16"]);
    const c = await ListenClient.open(model.port, "model=nova-3");
    await c.sendFile(stereo, 512 * 1024);
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.finalTranscript(), SENTENCES[5][0]);
    assert.ok(c.results.every((r) => r.channel_index[0] === 0 && r.channel_index[1] === 1));
    const meta = c.messages.at(-1) as { type: string; channels: number };
    assert.equal(meta.channels, 2);
  });

  it("transcribes each channel on its own with multichannel=true", async () => {
    const stereo = await audio.stereo(spoken[5], spoken[7], ["-r", "44100", "-b", "16"]);
    const c = await ListenClient.open(model.port, "model=nova-3&multichannel=true&channels=2");
    await c.sendFile(stereo);
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.finalTranscript(0), SENTENCES[5][0]);
    assert.equal(c.finalTranscript(1), SENTENCES[7][0]);
    assert.ok(c.results.every((r) => r.channel_index[1] === 2));
  });
});
