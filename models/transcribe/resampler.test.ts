import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Resampler } from "./resampler.js";

function sine(rate: number, hz: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

function zeroCrossings(x: Int16Array): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n;
}

describe("soxr resampler", () => {
  for (const rate of [8000, 44100, 48000]) {
    it(`converts ${rate} Hz to 16 kHz in chunks, keeping length and pitch`, () => {
      const r = new Resampler(rate, 16000);
      const input = sine(rate, 440, 1);
      const parts: Int16Array[] = [];
      // Odd-sized chunks: the filter state must carry across them.
      for (let i = 0; i < input.length; i += 997) parts.push(r.process(input.subarray(i, i + 997)));
      parts.push(r.flush());
      const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      assert.ok(Math.abs(out.length - 16000) <= 2, `${out.length} samples`);
      // 440 Hz crosses zero 880 times a second; allow the filter's edges.
      assert.ok(Math.abs(zeroCrossings(out) - 880) <= 4, `${zeroCrossings(out)} crossings`);
      assert.throws(() => r.process(input), /closed/);
    });
  }

  it("refuses a rate soxr cannot use", () => {
    assert.throws(() => new Resampler(0, 16000), /soxr_create/);
  });
});
