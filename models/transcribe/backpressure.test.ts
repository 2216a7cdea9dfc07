// A client sending audio much faster than it decodes: the session stops reading the socket
// above the backlog limit and resumes as it catches up, losing nothing.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { ListenClient } from "./testing/listen-client.js";
import { startModel, type ModelProcess } from "./testing/model-process.js";
import { TestAudio } from "./testing/test-audio.js";

describe("backlog limit", () => {
  let model: ModelProcess;
  let audio: TestAudio;
  let sentence: string;

  before(async () => {
    audio = await TestAudio.create();
    [model, sentence] = await Promise.all([
      startModel({ TRANSCRIBE_POOL_SIZE: "1", TRANSCRIBE_MAX_BACKLOG_SECONDS: "2" }),
      audio.speak("please call me back when you get home", "rms"),
    ]);
  });
  after(async () => {
    await model?.stop();
    await audio?.remove();
  });

  it("pauses reading above TRANSCRIBE_MAX_BACKLOG_SECONDS and still transcribes everything", async () => {
    const long = await readFile(await audio.withPauses([sentence, sentence, sentence, sentence], 1));
    const c = await ListenClient.open(model.port, "model=nova-3");
    // Half-second messages, all at once: far more than 2 s queued before decoding catches up.
    c.sendBytes(long, 16000);
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.finalTranscript(), Array(4).fill("please call me back when you get home").join(" "));
    assert.ok(model.logs.some((l) => l.msg === "backlog full: pausing the socket"));
  });
});
