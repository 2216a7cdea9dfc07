import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildMetadata, buildResults, buildSpeechStarted, buildUtteranceEnd } from "./deepgram-messages.js";
import type { EngineInfo } from "./recogniser.js";

const engine: EngineInfo = { name: "e", version: "1", arch: "a", uuid: "u" };
const words = [
  { word: "i", start: 1.0004, end: 1.2, confidence: 0.5 },
  { word: "agree", start: 1.2, end: 1.7, confidence: 1 },
];

describe("Deepgram messages", () => {
  it("builds Results with every field Deepgram sends", () => {
    const r = buildResults({ requestId: "r", engine, channel: 1, channels: 2, start: 1, duration: 0.75, isFinal: true, speechFinal: true, fromFinalize: false, words, punctuation: undefined });
    assert.deepEqual(r, {
      type: "Results",
      channel_index: [1, 2],
      duration: 0.75,
      start: 1,
      is_final: true,
      speech_final: true,
      from_finalize: false,
      channel: {
        alternatives: [
          {
            transcript: "i agree",
            confidence: 0.75,
            words: [
              { word: "i", start: 1, end: 1.2, confidence: 0.5 },
              { word: "agree", start: 1.2, end: 1.7, confidence: 1 },
            ],
          },
        ],
      },
      metadata: { request_id: "r", model_uuid: "u", model_info: { name: "e", version: "1", arch: "a" } },
    });
  });

  it("punctuates: sentence case at a sentence start, a full stop at a speech_final", () => {
    const r = buildResults({ requestId: "r", engine, channel: 0, channels: 1, start: 1, duration: 1, isFinal: true, speechFinal: true, fromFinalize: false, words, punctuation: { sentenceStart: true, sentenceEnd: true } });
    assert.equal(r.channel.alternatives[0].transcript, "I agree.");
    assert.deepEqual(r.channel.alternatives[0].words.map((w) => [w.word, w.punctuated_word]), [["i", "I"], ["agree", "agree."]]);
    const mid = buildResults({ requestId: "r", engine, channel: 0, channels: 1, start: 1, duration: 1, isFinal: false, speechFinal: false, fromFinalize: false, words: [words[1]], punctuation: { sentenceStart: false, sentenceEnd: false } });
    assert.equal(mid.channel.alternatives[0].transcript, "agree");
  });

  it("reports interim words without a confidence as 0, and an empty result with confidence 0", () => {
    const r = buildResults({ requestId: "r", engine, channel: 0, channels: 1, start: 0, duration: 0.5, isFinal: false, speechFinal: false, fromFinalize: false, words: [{ word: "a", start: 0, end: 0.1, confidence: undefined }], punctuation: undefined });
    assert.equal(r.channel.alternatives[0].words[0].confidence, 0);
    const empty = buildResults({ requestId: "r", engine, channel: 0, channels: 1, start: 0, duration: 0, isFinal: true, speechFinal: false, fromFinalize: true, words: [], punctuation: undefined });
    assert.deepEqual(empty.channel.alternatives[0], { transcript: "", confidence: 0, words: [] });
  });

  it("builds SpeechStarted, UtteranceEnd and Metadata", () => {
    assert.deepEqual(buildSpeechStarted(0, 1, 1.23456), { type: "SpeechStarted", channel: [0, 1], timestamp: 1.235 });
    assert.deepEqual(buildUtteranceEnd(1, 2, 3.5), { type: "UtteranceEnd", channel: [1, 2], last_word_end: 3.5 });
    const m = buildMetadata({ requestId: "r", engine, sha256: "abc", created: new Date("2026-01-02T03:04:05Z"), duration: 2.0004, channels: 1 });
    assert.deepEqual(m, {
      type: "Metadata",
      transaction_key: "deprecated",
      request_id: "r",
      sha256: "abc",
      created: "2026-01-02T03:04:05.000Z",
      duration: 2,
      channels: 1,
      models: ["u"],
      model_info: { u: { name: "e", version: "1", arch: "a" } },
    });
  });
});
