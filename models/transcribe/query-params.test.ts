import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ENDPOINTING_MS, ParamError, parseListenParams } from "./query-params.js";

const parse = (q: string) => parseListenParams(new URLSearchParams(q));

describe("query parameters", () => {
  it("applies Deepgram's defaults", () => {
    const o = parse("model=nova-3");
    assert.equal(o.encoding, undefined);
    assert.equal(o.channels, 1);
    assert.equal(o.interimResults, false);
    assert.equal(o.endpointingMs, DEFAULT_ENDPOINTING_MS);
    assert.equal(o.utteranceEndMs, undefined);
    assert.equal(o.vadEvents, false);
    assert.equal(o.language, "en");
  });

  it("reads every honoured parameter", () => {
    const o = parse(
      "model=nova-2&language=en-GB&encoding=mulaw&sample_rate=8000&channels=2&multichannel=true&interim_results=true&endpointing=false&utterance_end_ms=1000&vad_events=true&punctuate=true&smart_format=true&tag=a&tag=b&keywords=x:2&keyterm=y",
    );
    assert.deepEqual(
      { ...o, notHonoured: [...o.notHonoured].sort() },
      {
        model: "nova-2",
        language: "en-GB",
        encoding: "mulaw",
        sampleRate: 8000,
        channels: 2,
        multichannel: true,
        interimResults: true,
        endpointingMs: false,
        utteranceEndMs: 1000,
        vadEvents: true,
        punctuate: true,
        smartFormat: true,
        tags: ["a", "b"],
        keywords: ["x:2"],
        keyterms: ["y"],
        notHonoured: ["keyterm", "keywords"],
        unknown: [],
      },
    );
    assert.equal(parse("endpointing=500").endpointingMs, 500);
  });

  it("accepts unknown names and reports them", () => {
    assert.deepEqual(parse("model=nova-3&brand_new=1&other=2&brand_new=3").unknown, ["brand_new", "other"]);
  });

  it("accepts parameters the engine cannot honour and reports them", () => {
    assert.deepEqual(parse("diarize=true&redact=pci&numerals=false").notHonoured.sort(), ["diarize", "numerals", "redact"]);
  });

  it("refuses bad values of known parameters", () => {
    for (const q of [
      "encoding=wav&sample_rate=1",
      "encoding=flac&sample_rate=16000",
      "encoding=linear16",
      "encoding=linear16&sample_rate=16000.5",
      "sample_rate=0",
      "channels=17",
      "channels=two",
      "multichannel=1",
      "interim_results=TRUE",
      "vad_events=",
      "endpointing=soon",
      "utterance_end_ms=-1",
      "language=de",
      "language=multi",
      "diarize=maybe",
      "redact=names",
      "model=",
    ]) {
      assert.throws(() => parse(q), ParamError, q);
    }
  });
});
