// Weighted choice of a production variant. The random source is injected so tests can seed it
// and check the split exactly.
import type { RoutableVariant } from "./types.js";

export type RandomSource = () => number;

/** Returns undefined when every weight is zero: such an endpoint takes only targeted sessions. */
export function pickVariantByWeight(variants: RoutableVariant[], random: RandomSource): RoutableVariant | undefined {
  const total = variants.reduce((sum, v) => sum + Math.max(0, v.currentWeight), 0);
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const v of variants) {
    const w = Math.max(0, v.currentWeight);
    if (w === 0) continue;
    if (point < w) return v;
    point -= w;
  }
  // Rounding can leave `point` a hair past the last bucket.
  return [...variants].reverse().find((v) => v.currentWeight > 0);
}

/** A small seeded generator (mulberry32) for reproducible routing in tests and benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
