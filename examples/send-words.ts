// The SageMaker announcement's first client program, against Sluice: open a bidirectional
// stream to the echo endpoint, send four phrases one per second, print each echo as it arrives,
// then end the session.
//
//   node dist/examples/send-words.js --endpoint-url http://127.0.0.1:8443 --data-dir .sluice
import { setTimeout as sleep } from "node:timers/promises";
import { InvokeEndpointWithBidirectionalStreamCommand, type RequestStreamEvent } from "../src/client/index.js";
import { parseArgs } from "node:util";
import { clientFrom, COMMON_OPTIONS, duration, fail, report } from "./example-options.js";

const PHRASES = ["Hello from Sluice", "streaming both ways", "over one HTTP/2 stream", "to a model's WebSocket"];

const { values } = args();

function args() {
  try {
    return parseArgs({ options: { ...COMMON_OPTIONS, interval: { type: "string", default: "1s" } }, allowPositionals: false, strict: true });
  } catch (err) {
    fail((err as Error).message);
  }
}

if (values.help) {
  console.log(
    "usage: send-words [--endpoint-url URL] [--endpoint-name echo] [--region R] [--data-dir DIR] [--interval 1s]\n" +
      "Sends four phrases, one per interval, and prints each echo as it arrives.",
  );
  process.exit(0);
}
const interval = duration(String(values.interval));
const { client, endpointName, endpointUrl } = clientFrom(values);

function utf8(text: string): RequestStreamEvent {
  return { PayloadPart: { Bytes: new TextEncoder().encode(text), DataType: "UTF8" } };
}

async function* phrases(): AsyncGenerator<RequestStreamEvent> {
  for (const [i, phrase] of PHRASES.entries()) {
    if (i > 0) await sleep(interval);
    console.log(`> ${phrase}`);
    yield utf8(phrase);
  }
  // The echo model closes the session once it has echoed this (as Deepgram's models do).
  await sleep(interval);
  console.log(`> {"type":"CloseStream"}`);
  yield utf8(JSON.stringify({ type: "CloseStream" }));
}

try {
  const response = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: endpointName, Body: phrases() }));
  console.log(`Connected to ${endpointName} at ${endpointUrl} (variant ${response.InvokedProductionVariant}, request ${response.$metadata.requestId})`);
  for await (const event of response.Body) {
    const part = event.PayloadPart;
    const bytes = part.Bytes ?? new Uint8Array();
    const shown = part.DataType === "UTF8" ? new TextDecoder().decode(bytes) : `<${bytes.byteLength} bytes>`;
    console.log(`< ${part.DataType ?? "BINARY"}: ${shown}`);
  }
  console.log("Session ended.");
} catch (err) {
  report(err);
} finally {
  client.destroy();
}
