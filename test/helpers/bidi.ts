// A raw HTTP/2 bidi client for end-to-end tests, built from `src/protocol/` only, so tests control
// every byte and every stream state (which connection, when END_STREAM goes, RST_STREAM, not
// reading) independently of `src/client/`.
import * as http2 from "node:http2";
import { EventSigner } from "../../src/protocol/sigv4-event-signer.js";
import { signRequest, type SigningCredentials } from "../../src/protocol/sigv4-sign-request.js";
import { STREAMING_PAYLOAD } from "../../src/protocol/sigv4-verify-request.js";
import { encodePayloadPart } from "../../src/protocol/payload-part.js";
import { MessageReader } from "../../src/protocol/message-reader.js";
import { decodeResponseMessage, type ResponseMessage } from "../../src/protocol/response-event.js";
import type { PayloadPart } from "../../src/protocol/events.js";
import { TEST_KEY } from "./sluice.js";

export const REGION = "us-east-1";

export interface OpenOptions {
  endpointName: string;
  /** Extra request headers (e.g. x-amzn-sagemaker-model-invocation-path), signed with the rest. */
  headers?: Record<string, string>;
  credentials?: SigningCredentials;
  region?: string;
}

export interface BidiResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
}

/** Collected response of a stream: the decoded messages and how the stream ended. */
export interface Collected {
  messages: ResponseMessage[];
  /** True when the server ended the response with END_STREAM (not a reset). */
  ended: boolean;
}

export function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once("connect", () => {
      session.off("error", reject);
      resolve(session);
    });
    session.once("error", reject);
  });
}

/** Closes gracefully; streams a failed test left open are cut after `capMs` so nothing hangs. */
export function closeSession(session: http2.ClientHttp2Session, capMs = 5_000): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => session.destroy(), capMs);
    session.once("close", () => {
      clearTimeout(cut);
      resolve();
    });
    session.close();
  });
}

/** One bidi stream on `session`. */
export class RawBidi {
  readonly stream: http2.ClientHttp2Stream;
  readonly response: Promise<BidiResponse>;
  private readonly signer: EventSigner;
  private readonly reader = new MessageReader({ maxMessageBytes: 64 * 1024 * 1024 });

  private constructor(stream: http2.ClientHttp2Stream, signer: EventSigner) {
    this.stream = stream;
    this.signer = signer;
    stream.on("error", () => {});
    this.response = new Promise((resolve, reject) => {
      stream.once("response", (headers) => resolve({ status: Number(headers[":status"]), headers }));
      stream.once("close", () => reject(new Error(`stream closed before a response (rst code ${stream.rstCode})`)));
    });
    this.response.catch(() => {});
  }

  static async open(session: http2.ClientHttp2Session, url: string, options: OpenOptions): Promise<RawBidi> {
    const authority = new URL(url).host;
    const path = `/endpoints/${options.endpointName}/invocations-bidirectional-stream`;
    const region = options.region ?? REGION;
    const credentials = options.credentials ?? TEST_KEY;
    const signed = await signRequest({
      method: "POST",
      path,
      region,
      credentials,
      headers: {
        ":authority": authority,
        "content-type": "application/vnd.amazon.eventstream",
        "x-amz-content-sha256": STREAMING_PAYLOAD,
        ...options.headers,
      },
    });
    const stream = session.request({ ...signed.headers, ":method": "POST", ":path": path, ":scheme": "http" }, { endStream: false });
    return new RawBidi(stream, new EventSigner({ seedSignature: signed.signature, region, credentials }));
  }

  /** Signs and writes one part; resolves once the stream took it (waits for 'drain'). */
  async send(part: PayloadPart): Promise<void> {
    await this.write(await this.signer.sign(encodePayloadPart(part, "request")));
  }

  /** The empty signed envelope, then END_STREAM; resolves when both were handed to the session. */
  async end(): Promise<void> {
    await this.write(await this.signer.end());
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }

  /** RST_STREAM(CANCEL). */
  cancel(): void {
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** Response messages as they arrive; ends with the response (or throws if it was reset). */
  async *messages(): AsyncGenerator<ResponseMessage> {
    for await (const chunk of this.stream as AsyncIterable<Buffer>) {
      for (const bytes of this.reader.push(chunk)) yield decodeResponseMessage(bytes);
    }
    this.reader.end();
  }

  /** Reads the whole response. */
  async collect(): Promise<Collected> {
    const messages: ResponseMessage[] = [];
    for await (const m of this.messages()) messages.push(m);
    return { messages, ended: this.stream.readableEnded };
  }

  /** The JSON body of an error response. */
  async errorBody(): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  }

  private write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed) return reject(new Error("stream destroyed"));
      if (this.stream.write(bytes)) return resolve();
      const done = (err?: Error) => {
        this.stream.off("drain", onDrain);
        this.stream.off("close", onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error("stream closed while writing"));
      this.stream.on("drain", onDrain);
      this.stream.on("close", onClose);
    });
  }
}

export function text(s: string): PayloadPart {
  return { Bytes: Buffer.from(s, "utf8"), DataType: "UTF8" };
}

export function binary(bytes: Uint8Array): PayloadPart {
  return { Bytes: bytes, DataType: "BINARY" };
}

/** The payload of a PayloadPart message, failing with the message itself otherwise. */
export function partOf(m: ResponseMessage | undefined): PayloadPart {
  if (m?.kind !== "event") throw new Error(`expected a PayloadPart, got ${JSON.stringify(m)}`);
  return m.event.PayloadPart;
}

export function textOf(m: ResponseMessage | undefined): string {
  const part = partOf(m);
  if (part.DataType !== "UTF8") throw new Error(`expected a UTF8 part, got DataType ${part.DataType}`);
  return Buffer.from(part.Bytes).toString("utf8");
}

/** An async iterable the test feeds by hand: a client session's `Body` that sends as the test goes. */
export class Pushable<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private done = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
