// SIGTERM: open sessions may finish within the grace period, the rest are closed with 1001,
// and the process exits 0.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { ListenClient, refusal } from "./testing/listen-client.js";
import { startModel } from "./testing/model-process.js";
import { TestAudio } from "./testing/test-audio.js";

describe("shutdown", () => {
  let audio: TestAudio;
  let sentence: string;
  before(async () => {
    audio = await TestAudio.create();
    sentence = await audio.speak("please call me back when you get home", "rms");
  });
  after(async () => audio?.remove());

  it("lets a session finish with CloseStream during the grace period, then exits 0", async () => {
    const model = await startModel({ TRANSCRIBE_POOL_SIZE: "1", TRANSCRIBE_SHUTDOWN_GRACE_MS: "60000" });
    try {
      const c = await ListenClient.open(model.port, "model=nova-3");
      await c.sendFile(sentence);
      const exited = once(model.child, "exit");
      model.child.kill("SIGTERM");
      await model.waitForLog("shutting down");
      // Draining: unhealthy for the platform, and no new sessions.
      assert.equal((await fetch(`http://127.0.0.1:${model.port}/ping`)).status, 503);
      assert.equal((await refusal(model.port, "model=nova-3")).status, 503);
      c.control("CloseStream");
      assert.deepEqual(await c.closed, { code: 1000, reason: "" });
      assert.equal(c.finalTranscript(), "please call me back when you get home");
      assert.deepEqual(await exited, [0, null]);
    } finally {
      await model.stop();
    }
  });

  it("closes sessions still open after the grace period with 1001", async () => {
    const model = await startModel({ TRANSCRIBE_POOL_SIZE: "1", TRANSCRIBE_SHUTDOWN_GRACE_MS: "100" });
    try {
      const c = await ListenClient.open(model.port, "model=nova-3");
      const exited = once(model.child, "exit");
      model.child.kill("SIGTERM");
      assert.deepEqual(await c.closed, { code: 1001, reason: "server shutting down" });
      assert.deepEqual(await exited, [0, null]);
    } finally {
      await model.stop();
    }
  });
});
