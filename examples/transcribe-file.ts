// Transcribes an audio file through Sluice, as the Deepgram sample of the SageMaker announcement
// does against SageMaker: the file goes to the transcribe endpoint in 512 KB binary chunks over one
// bidirectional stream, then {"type":"CloseStream"}, and each transcript is printed as it arrives
// (interim ones marked with "~").
//
//   node dist/examples/transcribe-file.js --endpoint-url http://127.0.0.1:8443 --data-dir .sluice speech.wav
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { resolveCliCredentials } from "../src/cli/api-client.js";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client } from "../src/client/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "endpoint-url": { type: "string", default: process.env.SLUICE_ENDPOINT_URL ?? "http://127.0.0.1:8443" },
    "endpoint-name": { type: "string", default: "transcribe" },
    region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
    "data-dir": { type: "string", default: process.env.SLUICE_DATA_DIR ?? ".sluice" },
    query: { type: "string", default: "model=nova-3&interim_results=true&punctuate=true" },
  },
});
const file = positionals[0];
if (!file) {
  console.error("usage: transcribe-file [--endpoint-url URL] [--endpoint-name NAME] [--query Q] [--data-dir DIR] FILE.wav");
  process.exit(2);
}

const credentials = resolveCliCredentials({ endpointUrl: values["endpoint-url"]!, region: values.region!, dataDir: values["data-dir"]! });
if (!credentials) {
  console.error(`no credentials: set SLUICE_ACCESS_KEY_ID/SLUICE_SECRET_ACCESS_KEY, AWS_*, or use --data-dir`);
  process.exit(2);
}
const client = new SageMakerRuntimeHTTP2Client({ endpoint: values["endpoint-url"], region: values.region, credentials });

async function* audio() {
  for await (const chunk of createReadStream(file, { highWaterMark: 512_000 })) {
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
      EndpointName: values["endpoint-name"],
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
} finally {
  client.destroy();
}
