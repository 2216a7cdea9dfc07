// The model process's protocol edges: health, handshake refusals (400, 404, 503), Deepgram's
// close codes (1011 NET-0001, 1008 DATA-0000) and the frames that must not end a session.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { ListenClient, refusal, type ResultsMsg } from "./testing/listen-client.js";
import { startModel, type ModelProcess } from "./testing/model-process.js";
import { TestAudio } from "./testing/test-audio.js";

const IDLE_MS = 400;

describe("transcribe server", () => {
  let model: ModelProcess;
  let audio: TestAudio;
  let sentence: string;

  before(async () => {
    audio = await TestAudio.create();
    [model, sentence] = await Promise.all([
      startModel({ TRANSCRIBE_POOL_SIZE: "1", TRANSCRIBE_IDLE_TIMEOUT_MS: String(IDLE_MS) }),
      audio.speak("please call me back when you get home", "rms"),
    ]);
  });
  after(async () => {
    await model?.stop();
    await audio?.remove();
  });

  /** The pool's free count as /ping reports it. */
  async function available(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${model.port}/ping`);
    return ((await res.json()) as { decoders: { available: number } }).decoders.available;
  }

  /** Sessions give their decoder back asynchronously after the close: wait for it. */
  async function poolFree(): Promise<void> {
    for (let i = 0; i < 600 && (await available()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await available(), 1, "the decoder never came back to the pool");
  }

  it("answers GET /ping with 200", async () => {
    const res = await fetch(`http://127.0.0.1:${model.port}/ping`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { decoders: unknown }).decoders, { size: 1, available: 1 });
  });

  it("refuses a bad value of a known parameter with 400 and a Deepgram JSON error", async () => {
    const cases: [string, string][] = [
      ["encoding=mp3&sample_rate=16000", "encoding"],
      ["encoding=opus&sample_rate=48000", "encoding"],
      ["encoding=linear16", "sample_rate"],
      ["encoding=linear16&sample_rate=fast", "sample_rate"],
      ["interim_results=yes", "interim_results"],
      ["language=fr", "language"],
      ["channels=0", "channels"],
      ["endpointing=-5", "endpointing"],
      ["utterance_end_ms=soon", "utterance_end_ms"],
      ["redact=everything", "redact"],
    ];
    for (const [query, param] of cases) {
      const r = await refusal(model.port, `model=nova-3&${query}`);
      assert.equal(r.status, 400, query);
      assert.match(String(r.headers["content-type"]), /application\/json/);
      const body = JSON.parse(r.body) as { err_code: string; err_msg: string; request_id: string };
      assert.equal(body.err_code, "INVALID_QUERY_PARAMETER", query);
      assert.ok(body.err_msg.includes(param), `${query}: ${body.err_msg}`);
      assert.match(body.request_id, /^[0-9a-f-]{36}$/);
      assert.equal(r.headers["dg-request-id"], body.request_id);
    }
    assert.equal(await available(), 1, "a refused handshake must not hold a decoder");
  });

  it("accepts the browser form of Deepgram auth (Sec-WebSocket-Protocol: token, <key>)", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${model.port}/v1/listen?model=nova-3`, ["token", "some-api-key"]);
    await once(ws, "open");
    assert.equal(ws.protocol, "token");
    ws.send(JSON.stringify({ type: "CloseStream" }));
    const [code] = (await once(ws, "close")) as [number];
    assert.equal(code, 1000);
    await poolFree();
  });

  it("refuses a WebSocket on an unknown path with 404", async () => {
    const r = await refusal(model.port, "model=nova-3", "/v2/listen");
    assert.equal(r.status, 404);
  });

  it("accepts and logs unknown parameters, and serves /invocations-bidirectional-stream too", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3&shiny_new_flag=1", "/invocations-bidirectional-stream");
    c.control("CloseStream");
    await c.waitFor((m) => m.type === "Metadata");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    const logged = model.logs.find((l) => l.msg === "accepted unknown query parameters");
    assert.deepEqual(logged?.params, ["shiny_new_flag"]);
    await poolFree();
  });

  it("refuses the handshake with 503 while every decoder is lent out", async () => {
    const holder = await ListenClient.open(model.port, "model=nova-3");
    const r = await refusal(model.port, "model=nova-3");
    assert.equal(r.status, 503);
    assert.equal((JSON.parse(r.body) as { err_code: string }).err_code, "SERVICE_UNAVAILABLE");
    holder.control("CloseStream");
    await holder.closed;
    await poolFree();
    // Two channels transcribed separately need two decoders at once; this pool has one.
    const wide = await refusal(model.port, "model=nova-3&encoding=linear16&sample_rate=16000&channels=2&multichannel=true");
    assert.equal(wide.status, 503);
    assert.equal(await available(), 1);
    const next = await ListenClient.open(model.port, "model=nova-3");
    next.ws.close();
    await next.closed;
    await poolFree();
  });

  it("closes with 1011 NET-0001 when no frame arrives within the timeout", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3");
    assert.deepEqual(await c.closed, { code: 1011, reason: "NET-0001" });
    await poolFree();
  });

  it("answers Finalize before any audio, and ignores text frames it does not understand", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3");
    c.ws.send("not json");
    c.ws.send(JSON.stringify({ type: "SomethingNew" }));
    c.control("Finalize");
    const flushed = await c.waitFor<ResultsMsg>((m) => m.type === "Results");
    assert.equal(flushed.from_finalize, true);
    assert.equal(flushed.is_final, true);
    assert.equal(flushed.channel.alternatives[0].transcript, "");
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    await poolFree();
  });

  it("keeps the session while KeepAlive text frames arrive", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3");
    // Twice the timeout in total, at a quarter of it apart.
    for (let i = 0; i < 8; i++) {
      c.control("KeepAlive");
      await new Promise((r) => setTimeout(r, IDLE_MS / 4));
    }
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.messages.at(-1)?.type, "Metadata");
    await poolFree();
  });

  it("stays responsive and does not time out while audio sent faster than real time is decoded", async () => {
    const long = await audio.withPauses([sentence, sentence, sentence, sentence], 1);
    const c = await ListenClient.open(model.port, "model=nova-3&encoding=linear16&sample_rate=16000");
    await c.sendFile(long);
    // While the decoder works through the backlog, the event loop still answers a WebSocket
    // ping and GET /ping: both replies come before the last sentence's final.
    const events: string[] = [];
    const lastFinalSeen = c
      .waitFor<ResultsMsg>((m) => m.type === "Results" && (m as ResultsMsg).is_final && (m as ResultsMsg).start + (m as ResultsMsg).duration > 12)
      .then(() => events.push("final"));
    const pong = new Promise<void>((resolve) => c.ws.once("pong", () => resolve())).then(() => events.push("pong"));
    c.ws.ping();
    const health = fetch(`http://127.0.0.1:${model.port}/ping`).then((r) => events.push(`ping ${r.status}`));
    // Decoding ~14 s of audio takes far longer than IDLE_MS: the client stays silent meanwhile.
    await Promise.all([lastFinalSeen, pong, health]);
    assert.equal(events.at(-1), "final", events.join(", "));
    assert.ok(events.includes("ping 200"));
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.ok(c.finalTranscript().split(" ").filter((w) => w === "home").length >= 3, c.finalTranscript());
    await poolFree();
  });

  it("closes with 1008 DATA-0000 when audio without an encoding is not WAV", async () => {
    const c = await ListenClient.open(model.port, "model=nova-3");
    c.ws.send(Buffer.from("this is certainly not a RIFF header, nor audio"));
    assert.deepEqual(await c.closed, { code: 1008, reason: "DATA-0000" });
    await poolFree();
  });

  it("closes with 1008 DATA-0000 for a WAV in a format it cannot decode", async () => {
    // A WAV header declaring MPEG layer 3 (format tag 0x55).
    const h = Buffer.alloc(44);
    h.write("RIFF", 0, "latin1");
    h.writeUInt32LE(36 + 1000, 4);
    h.write("WAVEfmt ", 8, "latin1");
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(0x55, 20);
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(16000, 24);
    h.writeUInt32LE(2000, 28);
    h.writeUInt16LE(1, 32);
    h.writeUInt16LE(0, 34);
    h.write("data", 36, "latin1");
    h.writeUInt32LE(1000, 40);
    const c = await ListenClient.open(model.port, "model=nova-3");
    c.ws.send(Buffer.concat([h, Buffer.alloc(1000, 7)]));
    assert.deepEqual(await c.closed, { code: 1008, reason: "DATA-0000" });
    await poolFree();
  });

  it("ignores an empty binary frame, and reports the audio in Metadata on CloseStream", async () => {
    const wav = await readFile(sentence);
    const pcm = wav.subarray(44);
    const c = await ListenClient.open(model.port, "model=nova-3&encoding=linear16&sample_rate=16000&tag=t1");
    c.ws.send(Buffer.alloc(0));
    c.sendBytes(pcm.subarray(0, 20001));
    c.ws.send(Buffer.alloc(0));
    c.sendBytes(pcm.subarray(20001));
    c.control("CloseStream");
    assert.deepEqual(await c.closed, { code: 1000, reason: "" });
    assert.equal(c.finalTranscript(), "please call me back when you get home");
    const meta = c.messages.at(-1) as Record<string, unknown>;
    assert.equal(meta.type, "Metadata");
    assert.equal(meta.sha256, createHash("sha256").update(pcm).digest("hex"));
    assert.equal(meta.duration, Math.round((pcm.length / 2 / 16000) * 1000) / 1000);
    assert.equal(meta.channels, 1);
    assert.equal(meta.transaction_key, "deprecated");
    assert.match(String(meta.request_id), /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(String(meta.created))));
    // Metadata comes after every Results.
    assert.ok(c.messages.findIndex((m) => m.type === "Metadata") > c.messages.findLastIndex((m) => m.type === "Results"));
    await poolFree();
  });
});
