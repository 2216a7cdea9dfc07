import { test } from "node:test";
import assert from "node:assert/strict";
import { InputFramer, type FramerResult } from "./input-framer.js";
import { binary, text } from "./fake-container.fixture.js";

function frames(result: FramerResult) {
  assert.ok(result.ok, `expected frames, got ${JSON.stringify(result)}`);
  return result.frames.map((f) => ({ data: Buffer.from(f.data).toString("latin1"), binary: f.binary, fin: f.fin }));
}

function failure(result: FramerResult) {
  assert.ok(!result.ok, "expected a failure");
  return result.reason;
}

test("a COMPLETE part is one whole frame of its type; absent DataType and CompletionState mean BINARY and COMPLETE", () => {
  const f = new InputFramer(1024);
  assert.deepEqual(frames(f.push(text("hi"))), [{ data: "hi", binary: false, fin: true }]);
  assert.deepEqual(frames(f.push(binary([1, 2], "COMPLETE"))), [{ data: "\x01\x02", binary: true, fin: true }]);
  assert.deepEqual(frames(f.push({ Bytes: Buffer.from("x") })), [{ data: "x", binary: true, fin: true }]);
  assert.deepEqual(frames(f.push(text(""))), [{ data: "", binary: false, fin: true }]);
});

test("a PARTIAL run is held until COMPLETE, then released as fragments of the first part's type", () => {
  const f = new InputFramer(1024);
  assert.deepEqual(frames(f.push(text("a", "PARTIAL"))), []);
  assert.deepEqual(frames(f.push(text("b", "PARTIAL"))), []);
  assert.equal(f.heldBytes, 2);
  assert.deepEqual(frames(f.push(text("c", "COMPLETE"))), [
    { data: "a", binary: false, fin: false },
    { data: "b", binary: false, fin: false },
    { data: "c", binary: false, fin: true },
  ]);
  assert.equal(f.heldBytes, 0);
  assert.equal(f.inRun, false);
  // A run's last part may leave CompletionState absent (= COMPLETE) and DataType absent only if BINARY.
  assert.deepEqual(frames(f.push(binary([1], "PARTIAL"))), []);
  assert.deepEqual(frames(f.push({ Bytes: Buffer.from([2]) })), [
    { data: "\x01", binary: true, fin: false },
    { data: "\x02", binary: true, fin: true },
  ]);
});

test("a code point split across PARTIAL parts is valid once reassembled", () => {
  const f = new InputFramer(1024);
  const euro = Buffer.from("€", "utf8"); // 3 bytes
  f.push({ Bytes: euro.subarray(0, 1), DataType: "UTF8", CompletionState: "PARTIAL" });
  f.push({ Bytes: euro.subarray(1, 2), DataType: "UTF8", CompletionState: "PARTIAL" });
  assert.equal(frames(f.push({ Bytes: euro.subarray(2), DataType: "UTF8", CompletionState: "COMPLETE" })).length, 3);
});

test("malformed input fails with MalformedEvent and releases nothing of the run", () => {
  const typeChange = new InputFramer(1024);
  typeChange.push(text("a", "PARTIAL"));
  assert.equal(failure(typeChange.push(binary([1], "COMPLETE"))), "MalformedEvent");
  assert.equal(typeChange.heldBytes, 0);

  const absentMeansBinary = new InputFramer(1024);
  absentMeansBinary.push(text("a", "PARTIAL"));
  assert.equal(failure(absentMeansBinary.push({ Bytes: Buffer.from("b") })), "MalformedEvent");

  const invalidWhole = new InputFramer(1024);
  assert.equal(failure(invalidWhole.push({ Bytes: Buffer.from([0xc3, 0x28]), DataType: "UTF8" })), "MalformedEvent");

  const invalidRun = new InputFramer(1024);
  invalidRun.push({ Bytes: Buffer.from("ok"), DataType: "UTF8", CompletionState: "PARTIAL" });
  invalidRun.push({ Bytes: Buffer.from([0xe2, 0x82]), DataType: "UTF8", CompletionState: "PARTIAL" });
  assert.equal(failure(invalidRun.push({ Bytes: Buffer.from("x"), DataType: "UTF8", CompletionState: "COMPLETE" })), "MalformedEvent");

  const endsMidRun = new InputFramer(1024);
  endsMidRun.push(binary([1], "PARTIAL"));
  assert.equal(failure(endsMidRun.end()), "MalformedEvent");

  const unknownHeader = new InputFramer(1024);
  assert.equal(failure(unknownHeader.push({ Bytes: Buffer.from("x"), DataType: "TEXT" as never })), "MalformedEvent");
  assert.equal(failure(unknownHeader.push({ Bytes: Buffer.from("x"), CompletionState: "DONE" as never })), "MalformedEvent");
});

test("invalid UTF-8 in a BINARY part is just bytes", () => {
  const f = new InputFramer(1024);
  assert.equal(frames(f.push({ Bytes: Buffer.from([0xff, 0xfe]), DataType: "BINARY" })).length, 1);
});

test("a part or a run over maxPayloadBytes fails with PayloadTooLarge; exactly the limit passes", () => {
  const f = new InputFramer(4);
  assert.equal(frames(f.push(binary([1, 2, 3, 4]))).length, 1);
  assert.equal(failure(f.push(binary([1, 2, 3, 4, 5]))), "PayloadTooLarge");

  const run = new InputFramer(4);
  run.push(binary([1, 2], "PARTIAL"));
  run.push(binary([3, 4], "PARTIAL"));
  assert.equal(failure(run.push(binary([5], "COMPLETE"))), "PayloadTooLarge");
  assert.equal(run.heldBytes, 0);

  const atLimit = new InputFramer(4);
  atLimit.push(binary([1, 2], "PARTIAL"));
  assert.equal(frames(atLimit.push(binary([3, 4], "COMPLETE"))).length, 2);
  assert.equal(atLimit.end().ok, true);
});
