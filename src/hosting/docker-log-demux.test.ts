import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { LogDemux } from "./docker-log-demux.js";

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function demux(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks, { objectMode: false }).pipe(new LogDemux())) out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

test("strips the stream headers and keeps stdout and stderr in order", async () => {
  assert.equal(await demux([Buffer.concat([frame(1, "out 1\n"), frame(2, "err 1\n"), frame(1, "out 2\n")])]), "out 1\nerr 1\nout 2\n");
});

test("frames split anywhere, even inside a header, come out whole", async () => {
  const all = Buffer.concat([frame(1, "hello "), frame(2, "wörld\n"), frame(1, "")]);
  for (let i = 1; i < all.length; i++) {
    assert.equal(await demux([all.subarray(0, i), all.subarray(i)]), "hello wörld\n", `split at ${i}`);
  }
  assert.equal(await demux([...all].map((b) => Buffer.from([b]))), "hello wörld\n");
});

test("an unframed (TTY) stream passes through unchanged", async () => {
  assert.equal(await demux([Buffer.from("plain output\n"), Buffer.from("more\n")]), "plain output\nmore\n");
});
