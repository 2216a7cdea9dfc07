// The SageMaker announcement's second client program (the Deepgram sample), against Sluice:
// stream a local file in 512 KB binary chunks, then a UTF8 {"type":"CloseStream"}, printing
// every response event. --path and --query set the model invocation path and query string
// (e.g. --path v1/listen --query model=nova-3 for a Deepgram-style model).
//
//   node dist/examples/stream-file.js --endpoint-url http://127.0.0.1:8443 --data-dir .sluice \
//     --endpoint-name echo some-file.bin
import { createReadStream } from "node:fs";
import { InvokeEndpointWithBidirectionalStreamCommand, type RequestStreamEvent } from "../src/client/index.js";
import { parseArgs } from "node:util";
import { clientFrom, COMMON_OPTIONS, fail, report } from "./example-options.js";

/** 512 KB, the chunk size of the announcement's sample (its highWaterMark). */
const CHUNK_BYTES = 512_000;

const { values, positionals } = args();

function args() {
  try {
    return parseArgs({ options: { ...COMMON_OPTIONS, path: { type: "string" }, query: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (err) {
    fail((err as Error).message);
  }
}

if (values.help || positionals.length !== 1) {
  const usage =
    "usage: stream-file [--endpoint-url URL] [--endpoint-name echo] [--region R] [--data-dir DIR] [--path P] [--query Q] FILE\n" +
    "Streams FILE in 512 KB binary chunks, then {\"type\":\"CloseStream\"}, and prints every response event.";
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  fail(`expected one FILE\n${usage}`);
}
const file = positionals[0]!;
const { client, endpointName } = clientFrom(values);

let sentChunks = 0;
let sentBytes = 0;

async function* chunks(): AsyncGenerator<RequestStreamEvent> {
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    sentChunks++;
    sentBytes += chunk.length;
    console.log(`> BINARY chunk ${sentChunks}: ${chunk.length} bytes`);
    yield { PayloadPart: { Bytes: chunk, DataType: "BINARY" } };
  }
  console.log(`> UTF8: {"type":"CloseStream"}`);
  yield { PayloadPart: { Bytes: new TextEncoder().encode(JSON.stringify({ type: "CloseStream" })), DataType: "UTF8" } };
}

try {
  const response = await client.send(
    new InvokeEndpointWithBidirectionalStreamCommand({
      EndpointName: endpointName,
      ModelInvocationPath: values.path,
      ModelQueryString: values.query,
      Body: chunks(),
    }),
  );
  console.log(`Connected to ${endpointName} (variant ${response.InvokedProductionVariant}, request ${response.$metadata.requestId})`);
  let events = 0;
  let receivedBytes = 0;
  for await (const event of response.Body) {
    const part = event.PayloadPart;
    const bytes = part.Bytes ?? new Uint8Array();
    events++;
    receivedBytes += bytes.byteLength;
    const text = part.DataType === "UTF8" ? ` ${new TextDecoder().decode(bytes)}` : "";
    console.log(`< PayloadPart ${events}: ${part.DataType ?? "BINARY"} ${part.CompletionState ?? "COMPLETE"} ${bytes.byteLength} bytes${text}`);
  }
  console.log(`Session ended: sent ${sentBytes} bytes in ${sentChunks} chunks; received ${events} events, ${receivedBytes} bytes.`);
} catch (err) {
  report(err);
} finally {
  client.destroy();
}
