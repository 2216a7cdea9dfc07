// Benchmark of the transcribe model on the real recorded speech in Debian's
// pocketsphinx-testdata (LibriVox and "cards" recordings with transcripts):
//   - real-time factor: each file sent at once, wall time to the last final / audio length;
//   - word latency: files paced at real time in 100 ms chunks with interim results; for each
//     word of the final transcript, the time from its end (engine alignment) to the first
//     Results that shows it;
//   - word error rate against the transcripts.
// Runs the compiled model process: `npm run build && node dist/bench/transcribe.js`.
// Never part of `npm test`.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ListenClient, type ResultsMsg } from "../models/transcribe/testing/listen-client.js";
import { startModel, type ModelProcess } from "../models/transcribe/testing/model-process.js";
import { wordEditDistance, normaliseWords } from "../models/transcribe/testing/wer.js";

const DATA = process.env.TRANSCRIBE_BENCH_DATA ?? "/usr/share/pocketsphinx/test/data";
const CHUNK_MS = 100;

interface Utterance {
  id: string;
  wav: string;
  reference: string;
}

/** `<s> words </s> (id)` lines, as the CMU test sets write them. */
async function corpus(dir: string, transcription: string): Promise<Utterance[]> {
  const text = await readFile(join(DATA, dir, transcription), "utf8");
  return text
    .split("\n")
    .map((line) => /^(.*)\((\S+)\)\s*$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[2], wav: join(DATA, dir, `${m[2]}.wav`), reference: m[1].replace(/<\/?s>/g, "").trim() }));
}

function pcmOf(wav: Buffer): { pcm: Buffer; seconds: number } {
  // The test data is canonical 44-byte-header 16 kHz mono PCM (checked by soxi); the model
  // parses the header itself, so the whole file is sent, and the length is only for pacing.
  const pcm = wav.subarray(44);
  return { pcm, seconds: pcm.length / 2 / 16000 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** CPU seconds (user + system) the model process has used: immune to other load on the machine. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
// sysconf(_SC_CLK_TCK) is 100 on every Linux Debian ships.
const CLOCK_TICKS = 100;

async function fastRun(model: ModelProcess, u: Utterance) {
  const wav = await readFile(u.wav);
  const c = await ListenClient.open(model.port, "model=nova-3");
  const cpu0 = await cpuSeconds(model.child.pid!);
  const t0 = performance.now();
  c.sendBytes(wav);
  c.control("CloseStream");
  await c.waitFor((m) => m.type === "Metadata", 600_000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(model.child.pid!)) - cpu0;
  await c.closed;
  return { wall, cpu, seconds: pcmOf(wav).seconds, hypothesis: c.finalTranscript() };
}

/** Real-time pacing; returns, per final word, seconds from its end to its first appearance. */
async function pacedRun(model: ModelProcess, u: Utterance): Promise<number[]> {
  const wav = await readFile(u.wav);
  const c = await ListenClient.open(model.port, "model=nova-3&interim_results=true&encoding=linear16&sample_rate=16000");
  const arrivals: { at: number; msg: ResultsMsg }[] = [];
  c.ws.on("message", (data) => {
    const msg = JSON.parse(data.toString()) as ResultsMsg;
    if (msg.type === "Results") arrivals.push({ at: performance.now(), msg });
  });
  const { pcm } = pcmOf(wav);
  const bytesPerChunk = (16000 * 2 * CHUNK_MS) / 1000;
  const t0 = performance.now();
  for (let i = 0, n = 0; i < pcm.length; i += bytesPerChunk, n++) {
    // Sleep to the chunk's due time (not a fixed interval), so pacing does not drift.
    const due = t0 + n * CHUNK_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    c.ws.send(pcm.subarray(i, i + bytesPerChunk));
  }
  c.control("CloseStream");
  await c.closed;
  const latencies: number[] = [];
  for (const final of arrivals.filter((a) => a.msg.is_final)) {
    for (const w of final.msg.channel.alternatives[0].words) {
      // First Results of the same utterance showing this word at about the same place.
      const first = arrivals.find(
        (a) => a.msg.start === final.msg.start && a.msg.channel.alternatives[0].words.some((x) => x.word === w.word && Math.abs(x.start - w.start) < 0.3),
      );
      if (first) latencies.push((first.at - t0) / 1000 - w.end);
    }
  }
  return latencies;
}

/** The model's defaults, then the engine's single pass alone (no first-utterance re-decode). */
const CONFIGS: { label: string; env: Record<string, string> }[] = [
  { label: "default", env: {} },
  { label: "1-pass", env: { TRANSCRIBE_REDECODE_FIRST_UTTERANCE: "false" } },
];

async function main(): Promise<void> {
  const entry = fileURLToPath(new URL("../models/transcribe/main.js", import.meta.url));
  const sets = [
    { name: "librivox", utterances: await corpus("librivox", "transcription") },
    { name: "cards", utterances: await corpus("cards", "cards.transcription") },
  ];
  const rows: string[][] = [];
  for (const config of CONFIGS) {
    const model = await startModel(
      { TRANSCRIBE_POOL_SIZE: "1", TRANSCRIBE_LOG_LEVEL: "warn", ...config.env },
      { entry: entry.endsWith(".js") ? entry : undefined },
    );
    try {
      const allLatencies: number[] = [];
      let totalAudio = 0;
      let totalWall = 0;
      let totalCpu = 0;
      let totalErrors = 0;
      let totalWords = 0;
      for (const set of sets) {
        let audio = 0;
        let wall = 0;
        let cpu = 0;
        let errors = 0;
        let words = 0;
        const latencies: number[] = [];
        for (const u of set.utterances) {
          const fast = await fastRun(model, u);
          const ref = normaliseWords(u.reference);
          const e = wordEditDistance(ref, normaliseWords(fast.hypothesis));
          audio += fast.seconds;
          wall += fast.wall;
          cpu += fast.cpu;
          errors += e;
          words += ref.length;
          latencies.push(...(await pacedRun(model, u)));
          if (process.env.TRANSCRIBE_BENCH_VERBOSE) console.error(`${config.label} ${basename(u.wav)}: ${e}/${ref.length} | ${fast.hypothesis}`);
        }
        latencies.sort((a, b) => a - b);
        allLatencies.push(...latencies);
        totalAudio += audio;
        totalWall += wall;
        totalCpu += cpu;
        totalErrors += errors;
        totalWords += words;
        rows.push(row(config.label, set.name, set.utterances.length, audio, wall, cpu, errors, words, latencies));
      }
      allLatencies.sort((a, b) => a - b);
      const files = sets.reduce((n, s) => n + s.utterances.length, 0);
      rows.push(row(config.label, "all", files, totalAudio, totalWall, totalCpu, totalErrors, totalWords, allLatencies));
    } finally {
      await model.stop();
    }
  }
  printTable(["config", "set", "files", "audio s", "RTF wall", "RTF cpu", "WER", "words", "latency p50 s", "p90 s", "max s"], rows);
  console.log(`\nRTF wall: time from the first byte to Metadata / audio length, file sent at once (1 decoder).`);
  console.log(`RTF cpu: CPU time the model process used over the same span / audio length (not inflated by other load).`);
  console.log(`Latency: end of each final word (engine alignment) to the first Results showing it, audio paced at real time in ${CHUNK_MS} ms chunks, interim_results=true.`);
  console.log(`Each file is its own session, so under "default" every file is a first utterance and is decoded twice.`);
  console.log(`Other TRANSCRIBE_* settings come from the environment, else the model's defaults (README "Settings").`);
}

function row(config: string, name: string, files: number, audio: number, wall: number, cpu: number, errors: number, words: number, lat: number[]): string[] {
  return [
    config,
    name,
    String(files),
    audio.toFixed(1),
    (wall / audio).toFixed(3),
    (cpu / audio).toFixed(3),
    `${((errors / words) * 100).toFixed(1)} %`,
    String(words),
    percentile(lat, 50).toFixed(3),
    percentile(lat, 90).toFixed(3),
    (lat.at(-1) ?? NaN).toFixed(3),
  ];
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
