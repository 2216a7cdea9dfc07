// Word error rate: word-level Levenshtein distance over the reference length, after the same
// normalisation on both sides (lower case, no punctuation), so formatting is not an error.

export function normaliseWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** Substitutions + deletions + insertions needed to turn `hyp` into `ref`. */
export function wordEditDistance(ref: string[], hyp: string[]): number {
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const sub = prev[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      row.push(Math.min(sub, prev[j] + 1, row[j - 1] + 1));
    }
    prev = row;
  }
  return prev[hyp.length];
}

export interface WerResult {
  errors: number;
  words: number;
  wer: number;
}

export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const ref = normaliseWords(reference);
  const errors = wordEditDistance(ref, normaliseWords(hypothesis));
  return { errors, words: ref.length, wer: ref.length === 0 ? (errors === 0 ? 0 : 1) : errors / ref.length };
}
