import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DecoderPool } from "./decoder-pool.js";
import type { Recogniser } from "./recogniser.js";

function fake(id: number, disposed: number[]): Recogniser {
  return {
    sampleRate: 16000,
    info: { name: "fake", version: "0", arch: "t", uuid: "u" },
    startUtterance: async () => undefined,
    accept: async () => undefined,
    partial: async () => ({ words: [], decodedSeconds: 0 }),
    endUtterance: async () => ({ words: [], decodedSeconds: 0 }),
    reset: async () => undefined,
    dispose: async () => void disposed.push(id),
    id,
  } as Recogniser & { id: number };
}

describe("decoder pool", () => {
  it("loads every decoder up front and lends all-or-nothing", async () => {
    let made = 0;
    const disposed: number[] = [];
    const pool = await DecoderPool.create(3, async () => fake(made++, disposed));
    assert.equal(made, 3);
    assert.equal(pool.engine.name, "fake");
    const two = pool.tryAcquire(2);
    assert.equal(two?.length, 2);
    assert.equal(pool.tryAcquire(2), undefined, "only one left");
    assert.equal(pool.available, 1);
    for (const d of two!) pool.release(d);
    assert.equal(pool.available, 3);
    assert.equal(made, 3, "nothing is loaded on the session path");
  });

  it("replaces a broken decoder with a fresh one", async () => {
    let made = 0;
    const disposed: number[] = [];
    const pool = await DecoderPool.create(1, async () => fake(made++, disposed));
    const [d] = pool.tryAcquire(1)!;
    await pool.replace(d);
    assert.deepEqual(disposed, [0]);
    assert.equal(pool.available, 1);
    assert.equal(made, 2);
  });

  it("disposes everything on close, including decoders returned later", async () => {
    let made = 0;
    const disposed: number[] = [];
    const pool = await DecoderPool.create(2, async () => fake(made++, disposed));
    const [lent] = pool.tryAcquire(1)!;
    await pool.close();
    assert.equal(pool.tryAcquire(1), undefined);
    pool.release(lent);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(disposed.sort(), [0, 1]);
  });

  it("refuses a size that is not a positive integer", async () => {
    await assert.rejects(DecoderPool.create(0, async () => fake(0, [])), /positive integer/);
  });
});
