// A bidirectional stream driven byte by byte over node:http2, signed with the same protocol code
// the client uses, so tests can do what no well-behaved client does: skew the clock, flip a byte
// of a signed envelope, send garbage.
import * as http2 from "node:http2";
import { unwrapEnvelope, wrapEnvelope } from "../../src/protocol/envelope.js";
import { decodeMessage, encodeMessage } from "../../src/protocol/event-stream-codec.js";
import { encodePayloadPart } from "../../src/protocol/payload-part.js";
import { decodeResponseMessage, type ResponseMessage } from "../../src/protocol/response-event.js";
import { MessageReader } from "../../src/protocol/message-reader.js";
import { EventSigner } from "../../src/protocol/sigv4-event-signer.js";
import { signRequest, type SigningCredentials } from "../../src/protocol/sigv4-sign-request.js";
import { STREAMING_PAYLOAD } from "../../src/protocol/sigv4-verify-request.js";
import type { PayloadPart } from "../../src/protocol/events.js";

export interface RawBidiOptions {
  url: string;
  endpointName: string;
  region?: string;
  credentials?: SigningCredentials;
  /** Signing time of the request and its events; defaults to now. */
  now?: () => number;
  headers?: Record<string, string>;
  session?: http2.ClientHttp2Session;
}

export interface RawBidi {
  stream: http2.ClientHttp2Stream;
  /** Response status and headers. */
  response: Promise<http2.IncomingHttpHeaders>;
  /** Every response message until the stream ends (call only for a 200: errors are JSON). */
  messages(): Promise<ResponseMessage[]>;
  /** Raw response body (for error responses). */
  body: Promise<Buffer>;
  /** Resolves with the first `n` response messages as soon as they have arrived (200 only). */
  waitForMessages(n: number): Promise<ResponseMessage[]>;
  send(part: PayloadPart, tamper?: (envelope: Uint8Array) => Uint8Array): Promise<void>;
  /** Signs any inner message bytes into an envelope (malformed inner messages included) and sends it. */
  sendInner(inner: Uint8Array, tamper?: (envelope: Uint8Array) => Uint8Array): Promise<void>;
  /** Writes bytes as they are (no envelope, no signature). */
  sendRaw(bytes: Uint8Array): void;
  end(): Promise<void>;
  close(): void;
}

export async function openRawBidi(options: RawBidiOptions): Promise<RawBidi> {
  const url = new URL(options.url);
  const region = options.region ?? "us-east-1";
  const session = options.session ?? http2.connect(url.origin);
  session.on("error", () => {});
  const path = `/endpoints/${options.endpointName}/invocations-bidirectional-stream`;
  let headers: Record<string, string> = {
    ":authority": url.host,
    "content-type": "application/vnd.amazon.eventstream",
    "x-amz-content-sha256": STREAMING_PAYLOAD,
    ...options.headers,
  };
  let signer: EventSigner | undefined;
  if (options.credentials) {
    const date = new Date(options.now?.() ?? Date.now());
    const signed = await signRequest({ method: "POST", path, headers, region, credentials: options.credentials, date });
    headers = signed.headers;
    signer = new EventSigner({ seedSignature: signed.signature, region, credentials: options.credentials, now: options.now });
  }
  const stream = session.request({ ...headers, ":method": "POST", ":path": path }, { endStream: false });
  stream.on("error", () => {});
  const response = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once("response", resolve);
    stream.once("close", () => reject(new Error(`stream closed before a response (rst ${stream.rstCode})`)));
  });
  const chunks: Buffer[] = [];
  const live: ResponseMessage[] = [];
  const liveReader = new MessageReader();
  let waiters: { n: number; resolve: (m: ResponseMessage[]) => void }[] = [];
  stream.on("data", (c: Buffer) => {
    chunks.push(c);
    if (status !== 200) return;
    for (const m of liveReader.push(Uint8Array.from(c))) live.push(decodeResponseMessage(m));
    waiters = waiters.filter((w) => (live.length >= w.n ? (w.resolve(live.slice(0, w.n)), false) : true));
  });
  let status = 0;
  stream.once("response", (h) => (status = Number(h[":status"])));
  // The response can end while our request side is still open: its end is what we wait for.
  const body = new Promise<Buffer>((resolve) => {
    const done = () => resolve(Buffer.concat(chunks));
    stream.once("end", done);
    stream.once("close", done);
  });
  const messages = () =>
    body.then((all) => {
      const reader = new MessageReader();
      const decoded = reader.push(all).map((m) => decodeResponseMessage(m));
      reader.end();
      return decoded;
    });
  // Unsigned mode: a well-formed envelope with a zero signature, which --auth none accepts.
  const fakeEnvelope = async (inner: Uint8Array) => wrapEnvelope(inner, new Date(), new Uint8Array(32));
  return {
    stream,
    response,
    messages,
    body,
    waitForMessages: (n) =>
      live.length >= n ? Promise.resolve(live.slice(0, n)) : new Promise((resolve) => waiters.push({ n, resolve })),
    send: async (part, tamper) => {
      const inner = encodePayloadPart(part, "request");
      let envelope = signer ? await signer.sign(inner) : await fakeEnvelope(inner);
      if (tamper) envelope = tamper(envelope);
      stream.write(envelope);
    },
    sendInner: async (inner, tamper) => {
      let envelope = signer ? await signer.sign(inner) : await fakeEnvelope(inner);
      if (tamper) envelope = tamper(envelope);
      stream.write(envelope);
    },
    sendRaw: (bytes) => void stream.write(bytes),
    end: async () => {
      const envelope = signer ? await signer.end() : await fakeEnvelope(new Uint8Array(0));
      stream.end(envelope);
    },
    close: () => {
      if (!options.session) session.close();
    },
  };
}

export const utf8 = (text: string): PayloadPart => ({ Bytes: new TextEncoder().encode(text), DataType: "UTF8" });
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/**
 * Changes one byte of the inner message and re-wraps it with the original date and signature:
 * the frame is sound (CRCs recomputed), only the signature no longer matches.
 */
export function tamperSigned(envelope: Uint8Array, flipAt = -1): Uint8Array {
  const { date, signature, payload } = unwrapEnvelope(envelope);
  const inner = decodeMessage(payload);
  const body = Uint8Array.from(inner.body);
  body[(body.length + flipAt) % body.length] ^= 0x01;
  return wrapEnvelope(encodeMessage({ headers: inner.headers, body }), date, signature);
}
