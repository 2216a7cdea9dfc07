// Streaming sample-rate conversion of mono 16-bit PCM through libsoxr (HQ recipe). One
// Resampler per channel per session; it keeps filter state across chunks, and `flush` drains
// the filter's delay line at the end of the stream.
import * as soxr from "./soxr-binding.js";

export class Resampler {
  private handle: unknown;
  private readonly ratio: number;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    this.ratio = outputRate / inputRate;
    const error: (string | null)[] = [null];
    const spec = { itype: soxr.SOXR_INT16_I, otype: soxr.SOXR_INT16_I, scale: 1, e: null, flags: soxr.SOXR_NO_DITHER };
    this.handle = soxr.soxr_create(inputRate, outputRate, 1, error, spec, null, null);
    if (!this.handle || error[0]) throw new Error(`soxr_create(${inputRate} -> ${outputRate}) failed: ${error[0] ?? "no resampler"}`);
  }

  /** Resamples one chunk; output may lag input by the filter delay until `flush`. */
  process(input: Int16Array): Int16Array {
    return this.run(input);
  }

  /** Returns whatever the filter still holds. The resampler cannot be used afterwards. */
  flush(): Int16Array {
    const parts: Int16Array[] = [];
    // soxr drains in pieces; an empty output means it has nothing left.
    for (let i = 0; i < 64; i++) {
      const out = this.run(null);
      if (out.length === 0) break;
      parts.push(out);
    }
    this.close();
    return concat(parts);
  }

  close(): void {
    if (this.handle) soxr.soxr_delete(this.handle);
    this.handle = null;
  }

  private run(input: Int16Array | null): Int16Array {
    if (!this.handle) throw new Error("resampler is closed");
    const ilen = input ? input.length : 0;
    const olen = Math.ceil(ilen * this.ratio) + 1024;
    const out = new Int16Array(olen);
    const idone = [0];
    const odone = [0];
    const err = soxr.soxr_process(this.handle, input, ilen, idone, out, olen, odone) as string | null;
    if (err) throw new Error(`soxr_process failed: ${err}`);
    return out.subarray(0, Number(odone[0]));
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
