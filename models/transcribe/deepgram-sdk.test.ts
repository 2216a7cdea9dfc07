// The official @deepgram/sdk (5.13.0) pointed straight at the model process: it must connect,
// and its own parsers must hand back our Results and Metadata.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { DeepgramClient } from "@deepgram/sdk";
import { startModel, type ModelProcess } from "./testing/model-process.js";
import { TestAudio } from "./testing/test-audio.js";

describe("@deepgram/sdk against the model", () => {
  let model: ModelProcess;
  let audio: TestAudio;
  let wav: string;

  before(async () => {
    audio = await TestAudio.create();
    [model, wav] = await Promise.all([startModel({ TRANSCRIBE_POOL_SIZE: "1" }), audio.speak("please call me back when you get home", "rms")]);
  });
  after(async () => {
    await model?.stop();
    await audio?.remove();
  });

  it("streams a WAV file and receives Results and Metadata through the SDK", async () => {
    const client = new DeepgramClient({ apiKey: "not-checked-by-the-model", baseUrl: `ws://127.0.0.1:${model.port}`, reconnect: false });
    const socket = await client.listen.v1.connect({
      model: "nova-3",
      interim_results: "true",
      punctuate: "true",
      Authorization: "Token not-checked-by-the-model",
      reconnectAttempts: 0,
    });
    const messages: { type: string; [k: string]: unknown }[] = [];
    const closed = new Promise<{ code: number }>((resolve) => socket.on("close", (event) => resolve({ code: event.code })));
    socket.on("message", (m) => messages.push(m as unknown as { type: string }));
    socket.connect();
    await socket.waitForOpen();
    const bytes = await readFile(wav);
    for (let i = 0; i < bytes.length; i += 512 * 1024) socket.sendMedia(bytes.subarray(i, i + 512 * 1024));
    socket.sendCloseStream({ type: "CloseStream" });
    assert.equal((await closed).code, 1000);

    const results = messages.filter((m) => m.type === "Results") as unknown as {
      is_final: boolean;
      channel: { alternatives: { transcript: string }[] };
      metadata: { model_info: { name: string } };
    }[];
    assert.ok(results.some((r) => !r.is_final), "an interim Results");
    const transcript = results
      .filter((r) => r.is_final)
      .map((r) => r.channel.alternatives[0].transcript)
      .join(" ")
      .trim();
    assert.equal(transcript, "Please call me back when you get home.");
    assert.equal(results[0].metadata.model_info.name, "pocketsphinx-en-us");
    const meta = messages.at(-1)!;
    assert.equal(meta.type, "Metadata");
    assert.equal(meta.channels, 1);
  });
});
