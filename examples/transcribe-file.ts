// Transcribes an audio file through Sluice, as the Deepgram sample of the SageMaker announcement
// does against SageMaker: the file goes to the transcribe endpoint in 512 KB binary chunks over one
// bidirectional stream, then {"type":"CloseStream"}, and each transcript is printed as it arrives
// (interim ones marked with "~").
//
//   node dist/examples/transcribe-file.js --endpoint-url http://127.0.0.1:8443 --data-dir .sluice speech.wav
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { InvokeEndpointWithBidirectionalStreamCommand } from "../src/client/index.js";
import { clientFrom, COMMON_OPTIONS, fail, report } from "./example-options.js";

const { values, positionals } = args();

function args() {
  try {
    return parseArgs({
      options: {
        ...COMMON_OPTIONS,
        "endpoint-name": { type: "string", default: "transcribe" },
        query: { type: "string", default: "model=nova-3&interim_results=true&punctuate=true" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    fail((err as Error).message);
  }
}

if (values.help || positionals.length !== 1) {
  const usage =
    "usage: transcribe-file [--endpoint-url URL] [--endpoint-name transcribe] [--region R] [--data-dir DIR] [--query Q] FILE\n" +
    "Streams FILE (WAV, or raw audio described by --query) to a Deepgram-compatible endpoint and prints its transcripts.";
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  fail(usage);
}

const { client, endpointName } = clientFrom(values);

async function* audio() {
  for await (const chunk of createReadStream(positionals[0], { highWaterMark: 512_000 })) {
    yield { PayloadPart: { Bytes: chunk as Buffer, DataType: "BINARY" as const } };
  }
  yield { PayloadPart: { Bytes: new TextEncoder().encode('{"type":"CloseStream"}'), DataType: "UTF8" as const } };
}

interface Results {
  type: string;
  is_final?: boolean;
  start?: number;
  channel?: { alternatives: { transcript: string }[] };
}

try {
  const response = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({
      EndpointName: endpointName,
      Body: audio(),
      ModelInvocationPath: "v1/listen",
      ModelQueryString: values.query,
    }),
  );
  for await (const event of response.Body) {
    const message = JSON.parse(new TextDecoder().decode(event.PayloadPart!.Bytes)) as Results;
    const transcript = message.channel?.alternatives[0]?.transcript;
    if (message.type !== "Results" || !transcript) continue;
    console.log(`${message.is_final ? " " : "~"} [${(message.start ?? 0).toFixed(2)}s] ${transcript}`);
  }
} catch (err) {
  report(err);
} finally {
  client.destroy();
}
