// An HTTP/2 client written frame by frame over a plain socket, for what node:http2 will not do:
// open more streams than the server allows, send a header list of an exact size, stop reading,
// reset a stream half-way through a message. Header blocks are HPACK literals without indexing
// or Huffman coding, so their size is exactly what the test says; the server's header blocks
// are not decoded (a test only needs to know that a response came, or which reset).
import * as net from "node:net";

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** The frame size every peer accepts before SETTINGS say otherwise. */
const MAX_FRAME = 16_384;

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export interface StreamState {
  /** A HEADERS frame came back (the response started). */
  responded: boolean;
  /** DATA bytes received. */
  dataBytes: number;
  ended: boolean;
  /** RST_STREAM error code, if the server reset the stream. */
  rstCode: number | undefined;
}

/** RFC 7541 §5.1 integer with an n-bit prefix. */
function hpackInt(value: number, prefixBits: number, firstByteFlags = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

/** A header block of literal fields without indexing (RFC 7541 §6.2.2), no Huffman. */
export function encodeHeaderBlock(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    parts.push(Buffer.from([0x00]), hpackInt(n.length, 7), n, hpackInt(v.length, 7), v);
  }
  return Buffer.concat(parts);
}

/** RFC 7540 §6.5.2: what SETTINGS_MAX_HEADER_LIST_SIZE counts. */
export function headerListSize(headers: [string, string][]): number {
  return headers.reduce((n, [name, value]) => n + Buffer.byteLength(name) + Buffer.byteLength(value) + 32, 0);
}

export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.byteLength, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

export class RawH2 {
  readonly socket: net.Socket;
  readonly streams = new Map<number, StreamState>();
  goaway: { lastStreamId: number; code: number } | undefined;
  closed = false;
  /** PING acknowledgements received. */
  pingAcks = 0;
  /** The server's SETTINGS, by identifier. */
  readonly serverSettings = new Map<number, number>();
  private nextId = 1;
  private inbox: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private settingsSeen = false;
  /** When false, incoming DATA is not acknowledged with WINDOW_UPDATE: the server's window runs out. */
  replenish = true;
  /** When false, the server's SETTINGS are never acknowledged, so they never take full effect. */
  ackSettings = true;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.notify();
    });
    socket.on("error", () => {});
  }

  /** Connects, sends the preface and empty SETTINGS, and waits for (and acknowledges) the server's SETTINGS. */
  static async connect(url: string, settings: [number, number][] = [], options: { ackSettings?: boolean } = {}): Promise<RawH2> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const h2 = new RawH2(socket);
    h2.ackSettings = options.ackSettings ?? true;
    const body = Buffer.alloc(6 * settings.length);
    settings.forEach(([id, value], i) => {
      body.writeUInt16BE(id, i * 6);
      body.writeUInt32BE(value, i * 6 + 2);
    });
    socket.write(Buffer.concat([PREFACE, encodeFrame(FRAME.SETTINGS, 0, 0, body)]));
    await h2.until(() => h2.settingsSeen, "the server's SETTINGS");
    return h2;
  }

  /** Opens a stream with these headers (pseudo-headers first); returns its id. */
  request(headers: [string, string][], options: { endStream?: boolean } = {}): number {
    const id = this.nextId;
    this.nextId += 2;
    this.streams.set(id, { responded: false, dataBytes: 0, ended: false, rstCode: undefined });
    const block = encodeHeaderBlock(headers);
    const frames: Buffer[] = [];
    for (let offset = 0; offset === 0 || offset < block.length; offset += MAX_FRAME) {
      const piece = block.subarray(offset, offset + MAX_FRAME);
      const last = offset + MAX_FRAME >= block.length;
      const type = offset === 0 ? FRAME.HEADERS : FRAME.CONTINUATION;
      const flags = (last ? FLAG.END_HEADERS : 0) | (offset === 0 && options.endStream ? FLAG.END_STREAM : 0);
      frames.push(encodeFrame(type, flags, id, piece));
    }
    this.socket.write(Buffer.concat(frames));
    return id;
  }

  data(streamId: number, bytes: Uint8Array, endStream = false): void {
    for (let offset = 0; offset === 0 || offset < bytes.byteLength; offset += MAX_FRAME) {
      const piece = bytes.subarray(offset, offset + MAX_FRAME);
      const last = offset + MAX_FRAME >= bytes.byteLength;
      this.socket.write(encodeFrame(FRAME.DATA, last && endStream ? FLAG.END_STREAM : 0, streamId, piece));
    }
  }

  reset(streamId: number, code: number = H2_ERROR.CANCEL): void {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(code);
    this.socket.write(encodeFrame(FRAME.RST_STREAM, 0, streamId, body));
  }

  /** Writes bytes as they are: a frame the test built by hand, or garbage. */
  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once `check()` holds; rejects if the connection closes first or after `capMs` (a guard against hangs). */
  until(check: () => boolean, what: string, capMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), capMs);
      const test = (): boolean => {
        if (check()) return finish(), true;
        if (this.closed) return finish(new Error(`connection closed while waiting for ${what}`)), true;
        return false;
      };
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== onEvent);
        if (err) reject(err);
        else resolve();
      };
      const onEvent = (): void => void test();
      if (!test()) this.waiters.push(onEvent);
    });
  }

  /** Resolves when the socket has closed (the server hung up), capped against hangs. */
  whenClosed(capMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error("timed out waiting for the server to close the connection")), capMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    while (this.inbox.length >= 9) {
      const length = this.inbox.readUIntBE(0, 3);
      if (this.inbox.length < 9 + length) break;
      const frame: Frame = {
        type: this.inbox[3]!,
        flags: this.inbox[4]!,
        streamId: this.inbox.readUInt32BE(5) & 0x7fffffff,
        payload: this.inbox.subarray(9, 9 + length),
      };
      this.inbox = this.inbox.subarray(9 + length);
      this.onFrame(frame);
    }
    this.notify();
  }

  private onFrame(frame: Frame): void {
    const stream = this.streams.get(frame.streamId);
    switch (frame.type) {
      case FRAME.SETTINGS:
        if (frame.flags & FLAG.ACK) return;
        for (let i = 0; i + 6 <= frame.payload.length; i += 6) {
          this.serverSettings.set(frame.payload.readUInt16BE(i), frame.payload.readUInt32BE(i + 2));
        }
        if (this.ackSettings) this.socket.write(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
        this.settingsSeen = true;
        return;
      case FRAME.PING:
        if (frame.flags & FLAG.ACK) this.pingAcks++;
        else this.socket.write(encodeFrame(FRAME.PING, FLAG.ACK, 0, frame.payload));
        return;
      case FRAME.GOAWAY:
        this.goaway = { lastStreamId: frame.payload.readUInt32BE(0) & 0x7fffffff, code: frame.payload.readUInt32BE(4) };
        return;
      case FRAME.HEADERS:
        if (stream) {
          stream.responded = true;
          if (frame.flags & FLAG.END_STREAM) stream.ended = true;
        }
        return;
      case FRAME.DATA:
        if (stream) {
          stream.dataBytes += frame.payload.length;
          if (frame.flags & FLAG.END_STREAM) stream.ended = true;
        }
        if (this.replenish && frame.payload.length > 0) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(frame.payload.length);
          this.socket.write(Buffer.concat([encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, inc), encodeFrame(FRAME.WINDOW_UPDATE, 0, frame.streamId, inc)]));
        }
        return;
      case FRAME.RST_STREAM:
        if (stream) stream.rstCode = frame.payload.readUInt32BE(0);
        return;
      default:
        return;
    }
  }
}
