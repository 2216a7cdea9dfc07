// Decoders are loaded once, before the server listens, and lent to sessions: model loading
// never sits on a session's path, and the pool size bounds memory (each PocketSphinx en-us
// decoder holds its own acoustic model, dictionary and language model).
import type { EngineInfo, Recogniser } from "./recogniser.js";

export class DecoderPool {
  private readonly free: Recogniser[] = [];
  private closed = false;

  private constructor(
    readonly size: number,
    readonly engine: EngineInfo,
    private readonly factory: () => Promise<Recogniser>,
  ) {}

  /** Loads `size` decoders one after another (model loading is not known to be thread-safe). */
  static async create(size: number, factory: () => Promise<Recogniser>): Promise<DecoderPool> {
    if (!Number.isInteger(size) || size < 1) throw new Error(`decoder pool size must be a positive integer, not ${size}`);
    const first = await factory();
    const pool = new DecoderPool(size, first.info, factory);
    pool.free.push(first);
    for (let i = 1; i < size; i++) pool.free.push(await factory());
    return pool;
  }

  get available(): number {
    return this.free.length;
  }

  /** All `n` decoders or none: a session never starts with fewer channels than it asked for. */
  tryAcquire(n: number): Recogniser[] | undefined {
    if (this.closed || n > this.free.length) return undefined;
    return this.free.splice(this.free.length - n, n);
  }

  /** Returns a decoder whose utterance has been ended or reset. */
  release(recogniser: Recogniser): void {
    if (this.closed) void recogniser.dispose();
    else this.free.push(recogniser);
  }

  /**
   * A decoder that failed is not trusted again: it is freed and a fresh one is loaded in its
   * place, so the pool does not shrink.
   */
  replace(broken: Recogniser): Promise<void> {
    void broken.dispose().catch(() => undefined);
    return this.factory().then((fresh) => this.release(fresh));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.free.splice(0).map((r) => r.dispose()));
  }
}
