// Issue 6 scope 5: the transcribe model behind Sluice. The SageMaker announcement's flow — stream a
// WAV file in 512 KB chunks, then CloseStream, and print each transcript — through the Sluice
// client with ModelInvocationPath "v1/listen" and a Deepgram query string gives the transcript the
// model gives when spoken to directly; concurrent sessions on one instance each get their own.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client } from "../src/client/index.js";
import { ListenClient } from "../models/transcribe/testing/listen-client.js";
import { TestAudio } from "../models/transcribe/testing/test-audio.js";
import { ApiClient } from "../src/cli/api-client.js";
import { deployAt } from "./helpers/deploy.js";
import { REPO_ROOT, startSluice, TEST_KEY, type SluiceProcess } from "./helpers/sluice.js";

const CHUNK = 512_000;
let sluice: SluiceProcess;
let audio: TestAudio;
let first: string;
let second: string;

before(async () => {
  audio = await TestAudio.create();
  // Decoding two sessions at once on a busy machine can leave the model quiet for a while after
  // the input ends; the grace only bounds silence, but give it room.
  sluice = await startSluice({ args: ["--close-grace", "30s"] });
  const [a, b] = await Promise.all([
    audio.speak("the quick brown fox jumped over the lazy dog", "rms"),
    audio.speak("she sells sea shells by the sea shore", "rms"),
  ]);
  [first, second] = await Promise.all([audio.withPauses([a], 0.5), audio.withPauses([b], 0.5)]);
  await deployAt(sluice.url, "transcribe", { image: "sluice/transcribe", environment: { TRANSCRIBE_POOL_SIZE: "2" } });
});

after(async () => {
  await sluice?.cleanup();
  await audio?.remove();
});

interface Outcome {
  finals: string[];
  types: string[];
}

/** The announcement's client: 512 KB binary chunks, then CloseStream; collects what comes back. */
async function transcribeThroughSluice(client: SageMakerRuntimeHTTP2Client, wav: string): Promise<Outcome> {
  const bytes = readFileSync(wav);
  async function* input() {
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      yield { PayloadPart: { Bytes: bytes.subarray(offset, offset + CHUNK), DataType: "BINARY" as const } };
    }
    yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"CloseStream"}'), DataType: "UTF8" as const } };
  }
  const out = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({
      EndpointName: "transcribe",
      Body: input(),
      ModelInvocationPath: "v1/listen",
      ModelQueryString: "model=nova-3&interim_results=true&punctuate=false",
    }),
  );
  const outcome: Outcome = { finals: [], types: [] };
  for await (const event of out.Body) {
    const part = event.PayloadPart!;
    assert.equal(part.DataType, "UTF8");
    const message = JSON.parse(new TextDecoder().decode(part.Bytes)) as { type: string; is_final?: boolean; channel?: { alternatives: { transcript: string }[] } };
    outcome.types.push(message.type);
    const transcript = message.channel?.alternatives[0]?.transcript ?? "";
    if (message.type === "Results" && message.is_final && transcript) outcome.finals.push(transcript);
  }
  return outcome;
}

async function instancePort(): Promise<number> {
  const api = new ApiClient({ endpointUrl: sluice.url, region: "us-east-1", ...TEST_KEY, dataDir: sluice.dataDir });
  const { Instances } = await api.call<{ Instances: { Port: number }[] }>("Sluice.ListInstances", { EndpointName: "transcribe" });
  assert.equal(Instances.length, 1, "one instance serves both sessions");
  return Instances[0].Port;
}

async function transcribeDirectly(port: number, wav: string): Promise<string[]> {
  const listen = await ListenClient.open(port, "model=nova-3&interim_results=true&punctuate=false");
  listen.sendBytes(readFileSync(wav), CHUNK);
  listen.control("CloseStream");
  assert.equal((await listen.closed).code, 1000);
  return listen.results.filter((r) => r.is_final && r.channel.alternatives[0].transcript).map((r) => r.channel.alternatives[0].transcript);
}

test("the announcement's flow through Sluice transcribes the WAV as the model does directly", async () => {
  const client = new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY });
  try {
    const viaSluice = await transcribeThroughSluice(client, first);
    assert.deepEqual(viaSluice.finals.join(" ").split(/\s+/), "the quick brown fox jumped over the lazy dog".split(" "));
    assert.equal(viaSluice.types.at(-1), "Metadata", "CloseStream flushes: final Results, then Metadata, then the close");
    assert.ok(viaSluice.types.filter((t) => t === "Results").length > viaSluice.finals.length, "interim results came too");

    assert.deepEqual(await transcribeDirectly(await instancePort(), first), viaSluice.finals);
  } finally {
    client.destroy();
  }
});

test("two sessions at once on one instance each get their own transcript", async () => {
  const client = new SageMakerRuntimeHTTP2Client({ endpoint: sluice.url, region: "us-east-1", credentials: TEST_KEY });
  try {
    const [a, b] = await Promise.all([transcribeThroughSluice(client, first), transcribeThroughSluice(client, second)]);
    assert.equal(a.finals.join(" "), "the quick brown fox jumped over the lazy dog");
    // Each session's transcript is the one the model gives that audio on its own.
    const port = await instancePort();
    assert.deepEqual(b.finals, await transcribeDirectly(port, second));
    assert.match(b.finals.join(" "), /^she sells/);
  } finally {
    client.destroy();
  }
});

test("examples/transcribe-file prints the transcript of a file in one command", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO_ROOT, "dist", "examples", "transcribe-file.js"), "--endpoint-url", sluice.url, "--query", "model=nova-3&interim_results=true", first],
    { env: { ...process.env, SLUICE_ACCESS_KEY_ID: TEST_KEY.accessKeyId, SLUICE_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey } },
  );
  const lines = stdout.trim().split("\n");
  const finals = lines.filter((l) => l.startsWith(" ")).map((l) => l.replace(/^\s+\[[\d.]+s\] /, ""));
  assert.equal(finals.join(" "), "the quick brown fox jumped over the lazy dog");
  assert.ok(lines.some((l) => l.startsWith("~")), "interim transcripts are printed as they arrive");
});
