// HDR histograms of microseconds: the load generator records, compresses and ships them to the
// parent, which merges runs for the chart and reads percentiles for the tables.

import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

/** 1 µs to 2 minutes at 3 significant digits: 0.1% precision across every latency we can see. */
export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

export function mergeHistograms(encoded: string[]): Histogram {
  const merged = newHistogram();
  for (const e of encoded) merged.add(decodeHistogram(e));
  return merged;
}

/** Percentile in milliseconds. */
export function percentileMs(h: Histogram, p: number): number {
  return h.getValueAtPercentile(p) / 1000;
}
