// Test speech made at test time with Debian's flite (voices slt and rms) and sox, so no audio
// is checked in and nothing is downloaded. Every file lands in a directory the caller removes.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Voice = "slt" | "rms";

export class TestAudio {
  private n = 0;
  private constructor(readonly dir: string) {}

  static async create(): Promise<TestAudio> {
    return new TestAudio(await mkdtemp(join(tmpdir(), "transcribe-audio-")));
  }

  private next(ext: string): string {
    return join(this.dir, `a${this.n++}.${ext}`);
  }

  /** One sentence as a 16 kHz mono 16-bit WAV. */
  async speak(text: string, voice: Voice): Promise<string> {
    const raw = this.next("wav");
    await run("flite", ["-voice", voice, "-t", text, "-o", raw]);
    const out = this.next("wav");
    await run("sox", [raw, "-r", "16000", "-c", "1", "-b", "16", out]);
    return out;
  }

  /** Digital silence in the same format. */
  async silence(seconds: number, rate = 16000): Promise<string> {
    const out = this.next("wav");
    await run("sox", ["-n", "-r", String(rate), "-c", "1", "-b", "16", out, "trim", "0", String(seconds)]);
    return out;
  }

  /** Joins files (same format) with `gap` seconds of silence before, between and after. */
  async withPauses(files: string[], gap: number): Promise<string> {
    const sil = await this.silence(gap);
    const out = this.next("wav");
    await run("sox", [sil, ...files.flatMap((f) => [f, sil]), out]);
    return out;
  }

  /** Any sox conversion: `sox in <args before out> out`. */
  async convert(input: string, ext: string, args: string[]): Promise<string> {
    const out = this.next(ext);
    await run("sox", [input, ...args, out]);
    return out;
  }

  /** Two mono files as the left and right channels of one stereo file (the shorter padded). */
  async stereo(left: string, right: string, args: string[]): Promise<string> {
    const out = this.next("wav");
    await run("sox", ["-M", left, right, ...args, out]);
    return out;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
