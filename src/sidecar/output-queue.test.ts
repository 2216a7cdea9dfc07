import { test } from "node:test";
import assert from "node:assert/strict";
import type { PayloadPart, StreamError } from "../protocol/events.js";
import { OutputQueue } from "./output-queue.js";

function part(s: string): PayloadPart {
  return { Bytes: Buffer.from(s), DataType: "UTF8", CompletionState: "COMPLETE" };
}

function harness(held = false) {
  const log: string[] = [];
  let accept = true;
  const output = {
    part: (p: PayloadPart) => {
      log.push(`part ${Buffer.from(p.Bytes).toString()}`);
      return accept;
    },
    end: (e?: StreamError) => log.push(`end ${e ? e.Message : "clean"}`),
  };
  const queue = new OutputQueue(output, { pause: () => log.push("pause"), resume: () => log.push("resume") }, held);
  return { log, queue, setAccept: (v: boolean) => (accept = v) };
}

test("parts pass straight through while the runtime accepts, and the end follows them", () => {
  const { log, queue } = harness();
  queue.push(part("a"));
  queue.push(part("b"));
  queue.finish();
  assert.deepEqual(log, ["part a", "part b", "end clean"]);
  assert.equal(queue.isEnded, true);
});

test("a false from part() pauses reading once; later parts and the end wait for resume, in order", () => {
  const { log, queue, setAccept } = harness();
  setAccept(false);
  queue.push(part("a"));
  queue.push(part("b"));
  queue.push(part("c"));
  const err: StreamError = { kind: "ModelStreamError", ErrorCode: "StreamBroken", Message: "gone" };
  queue.finish(err);
  assert.deepEqual(log, ["part a", "pause"]);
  assert.equal(queue.queuedBytes, 2);
  setAccept(true);
  queue.resume();
  assert.deepEqual(log, ["part a", "pause", "part b", "part c", "end gone"]);
  assert.equal(queue.queuedBytes, 0);
});

test("resume reads the container again only after a pause and only once the queue is empty", () => {
  const { log, queue, setAccept } = harness();
  queue.push(part("a"));
  queue.resume();
  assert.deepEqual(log, ["part a"]);
  setAccept(false);
  queue.push(part("b"));
  queue.push(part("c"));
  queue.resume(); // c is delivered but refused again: still paused
  assert.deepEqual(log, ["part a", "part b", "pause", "part c"]);
  setAccept(true);
  queue.resume();
  assert.deepEqual(log, ["part a", "part b", "pause", "part c", "resume"]);
});

test("a held queue delivers nothing until the first resume", () => {
  const { log, queue } = harness(true);
  queue.push(part("a"));
  queue.finish();
  assert.deepEqual(log, []);
  queue.resume();
  assert.deepEqual(log, ["part a", "end clean"]);
});

test("abort drops what is queued and ends at once, exactly once", () => {
  const { log, queue, setAccept } = harness();
  setAccept(false);
  queue.push(part("a"));
  queue.push(part("b"));
  queue.abort();
  queue.finish();
  queue.abort();
  assert.deepEqual(log, ["part a", "pause", "end clean"]);
  queue.push(part("c"));
  assert.deepEqual(log, ["part a", "pause", "end clean"]);
});

test("the first decided end wins", () => {
  const { log, queue, setAccept } = harness();
  setAccept(false);
  queue.push(part("a"));
  queue.finish({ kind: "InternalStreamFailure", Message: "first" });
  queue.finish({ kind: "InternalStreamFailure", Message: "second" });
  setAccept(true);
  queue.resume();
  assert.deepEqual(log, ["part a", "pause", "end first"]);
});

test("part() may call back into the queue (resume, abort) without reordering or double ends", () => {
  const log: string[] = [];
  let queue!: OutputQueue;
  queue = new OutputQueue(
    {
      part: (p) => {
        const s = Buffer.from(p.Bytes).toString();
        log.push(`part ${s}`);
        if (s === "b") queue.abort();
        return true;
      },
      end: () => log.push("end"),
    },
    { pause: () => {}, resume: () => {} },
    true,
  );
  queue.push(part("a"));
  queue.push(part("b"));
  queue.push(part("c"));
  queue.resume();
  assert.deepEqual(log, ["part a", "part b", "end"]);
});

test("many queued parts drain in order (the head index compacts)", () => {
  const { log, queue, setAccept } = harness();
  setAccept(false);
  for (let i = 0; i < 5000; i++) queue.push(part(String(i)));
  setAccept(true);
  queue.resume();
  const parts = log.filter((l) => l.startsWith("part ")).map((l) => Number(l.slice(5)));
  assert.deepEqual(parts, Array.from({ length: 5000 }, (_, i) => i));
});

test("abort from inside a part() that returns false still ends the output", () => {
  const log: string[] = [];
  let queue!: OutputQueue;
  queue = new OutputQueue(
    {
      part: () => {
        log.push("part");
        queue.abort({ kind: "InternalStreamFailure", Message: "gone" });
        return false;
      },
      end: (e) => log.push(`end ${e?.Message}`),
    },
    { pause: () => log.push("pause"), resume: () => {} },
  );
  queue.push(part("a"));
  queue.push(part("b"));
  assert.deepEqual(log, ["part", "end gone"]);
  assert.equal(queue.isEnded, true);
});
