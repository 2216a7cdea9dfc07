// Test support: a real WebSocket server on 127.0.0.1 playing the model container, and a
// SessionOutput that records what the runtime would have written. Tests await events through
// these, each wait capped only against hangs.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket, type ServerOptions } from "ws";
import type { PayloadPart, StreamError } from "../protocol/events.js";
import type { SessionOutput } from "./output-queue.js";

/** Cap on any single wait in these tests: long enough never to fire on a slow CI box. */
export const HANG_MS = 10_000;

export function within<T>(promise: Promise<T>, what: string, ms = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
}

/** The container's side of one session. */
export class ContainerConnection {
  readonly messages: ReceivedMessage[] = [];
  pings = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly request: IncomingMessage,
  ) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data, isBinary });
      this.notify();
    });
    ws.on("ping", () => {
      this.pings++;
      this.notify();
    });
    ws.on("error", () => {});
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Resolves once `count` messages have arrived. */
  received(count: number): Promise<ReceivedMessage[]> {
    return this.when(() => this.messages.length >= count, `${count} messages at the container`).then(() => this.messages);
  }

  when(condition: () => boolean, what: string): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (condition()) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      what,
    );
  }

  /** Sends and resolves when the data was handed to the kernel. */
  send(data: string | Buffer, binary = typeof data !== "string"): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve())));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface FakeContainer {
  /** ws://127.0.0.1:port/invocations-bidirectional-stream */
  url: string;
  port: number;
  http: Server;
  /** The next session the sidecar opens. */
  nextConnection(): Promise<ContainerConnection>;
  close(): Promise<void>;
}

export type ContainerOptions = Pick<ServerOptions, "autoPong" | "maxPayload"> & {
  /** Called for every session; default: record only. */
  onConnection?: (conn: ContainerConnection) => void;
};

export async function startContainer(options: ContainerOptions = {}): Promise<FakeContainer> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  // Only options given: ws treats an explicit `undefined` as a value, not as "use the default".
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: false,
    ...(options.autoPong !== undefined ? { autoPong: options.autoPong } : {}),
    ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
  });
  const pending: ContainerConnection[] = [];
  const waiting: Array<(c: ContainerConnection) => void> = [];
  wss.on("connection", (ws, req) => {
    const conn = new ContainerConnection(ws, req);
    options.onConnection?.(conn);
    const w = waiting.shift();
    if (w) w(conn);
    else pending.push(conn);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/invocations-bidirectional-stream`,
    port,
    http,
    nextConnection: () =>
      within(
        new Promise<ContainerConnection>((resolve) => {
          const c = pending.shift();
          if (c) resolve(c);
          else waiting.push(resolve);
        }),
        "a connection at the container",
      ),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A SessionOutput recording parts and the end; `accepting` is what `part()` returns. */
export class RecordingOutput implements SessionOutput {
  readonly parts: PayloadPart[] = [];
  endCalls = 0;
  endError: StreamError | undefined;
  accepting = true;
  /** Parts that arrived while the runtime had said stop: must stay 0. */
  partsWhilePaused = 0;
  /** Parts that arrived after `end()`: must stay 0. */
  partsAfterEnd = 0;
  private readonly endedPromise: Promise<StreamError | undefined>;
  private paused = false;
  private resolveEnded!: (e: StreamError | undefined) => void;
  private waiters: Array<() => void> = [];

  constructor() {
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Resolves with what `end()` received. */
  ended(): Promise<StreamError | undefined> {
    return within(this.endedPromise, "output.end");
  }

  part(part: PayloadPart): boolean {
    if (this.paused) this.partsWhilePaused++;
    if (this.endCalls > 0) this.partsAfterEnd++;
    this.parts.push(part);
    this.notify();
    if (!this.accepting) this.paused = true;
    return this.accepting;
  }

  end(error?: StreamError): void {
    this.endCalls++;
    this.endError = error;
    this.resolveEnded(error);
    this.notify();
  }

  /** Call before `session.resumeOutput()`. */
  accept(): void {
    this.accepting = true;
    this.paused = false;
  }

  received(count: number): Promise<PayloadPart[]> {
    return within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.parts.length >= count) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      `${count} parts at the output`,
    ).then(() => this.parts);
  }

  texts(): string[] {
    return this.parts.map((p) => Buffer.from(p.Bytes).toString("utf8"));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Timers and immediates alive now, to check a session leaves none behind. */
export function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
}

export function text(s: string, CompletionState?: "PARTIAL" | "COMPLETE"): PayloadPart {
  return { Bytes: Buffer.from(s, "utf8"), DataType: "UTF8", ...(CompletionState ? { CompletionState } : {}) };
}

export function binary(bytes: Uint8Array | number[], CompletionState?: "PARTIAL" | "COMPLETE"): PayloadPart {
  return { Bytes: Buffer.from(bytes), DataType: "BINARY", ...(CompletionState ? { CompletionState } : {}) };
}
