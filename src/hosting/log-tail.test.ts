import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readLogTail } from "./log-tail.js";

describe("readLogTail", () => {
  it("returns the last lines, drops a partial first line and trailing blanks, [] for no file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-log-tail-"));
    try {
      const path = join(dir, "x.log");
      assert.deepEqual(await readLogTail(path), []);
      await writeFile(path, "one\ntwo\nthree\nfour\n\n");
      assert.deepEqual(await readLogTail(path, { lines: 2 }), ["three", "four"]);
      assert.deepEqual(await readLogTail(path), ["one", "two", "three", "four"]);
      // 12 bytes from the end start exactly at "three"; 11 start inside it, so it is not quoted.
      assert.deepEqual(await readLogTail(path, { maxBytes: 12 }), ["three", "four"]);
      assert.deepEqual(await readLogTail(path, { maxBytes: 11 }), ["four"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
