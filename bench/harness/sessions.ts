// One interface over the three ways to hold an echo session, so every scenario drives direct,
// nginx and Sluice with the same code: a WebSocket (ws, straight or through nginx) or an
// InvokeEndpointWithBidirectionalStream call with the Sluice client.

import { WebSocket } from "ws";
import { InvokeEndpointWithBidirectionalStreamCommand, SageMakerRuntimeHTTP2Client } from "../../src/client/index.js";
import type { RequestStreamEvent } from "../../src/client/index.js";
import type { Target } from "./targets.js";

export interface BenchSession {
  /** Queues one message; never waits (open-loop scenarios decide their own pace). */
  send(data: Buffer, binary: boolean): void;
  /** Called with every whole message echoed back. */
  onMessage: (data: Buffer) => void;
  /** Called once if the session fails or closes unexpectedly. */
  onError: (err: Error) => void;
  /** Ends the session the same way on every path: a `{"type":"CloseStream"}` text message, which
   * the echo model echoes and answers with Close 1000; resolves when the session has ended. */
  close(): Promise<void>;
  /** Ends the session at once (WebSocket terminate, HTTP/2 cancel), for cleanup after failures. */
  destroy(): void;
}

const CLOSE_STREAM = Buffer.from(JSON.stringify({ type: "CloseStream" }));

export interface SessionFactory {
  open(): Promise<BenchSession>;
  /** Releases shared clients (HTTP/2 connections). */
  dispose(): void;
}

export function sessionFactory(target: Target): SessionFactory {
  return target.kind === "websocket" ? webSocketFactory(target.url) : sluiceFactory(target);
}

function webSocketFactory(url: string): SessionFactory {
  return {
    open: () => openWebSocket(`${url}/invocations-bidirectional-stream`),
    dispose: () => undefined,
  };
}

function openWebSocket(url: string): Promise<BenchSession> {
  return new Promise((resolve, reject) => {
    // As Sluice's sidecar dials: no compression, so the three paths move the same bytes.
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    let ended: () => void = () => undefined;
    const endedPromise = new Promise<void>((r) => (ended = r));
    let closing = false;
    const session: BenchSession = {
      send: (data, binary) => ws.send(data, { binary }),
      onMessage: () => undefined,
      onError: () => undefined,
      close() {
        closing = true;
        if (ws.readyState === WebSocket.OPEN) ws.send(CLOSE_STREAM, { binary: false });
        else if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
        return endedPromise;
      },
      destroy() {
        closing = true;
        ws.terminate();
      },
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (closing && !isBinary && data.equals(CLOSE_STREAM)) return;
      session.onMessage(data);
    });
    ws.once("open", () => resolve(session));
    ws.on("error", (err) => {
      reject(err);
      if (!closing) session.onError(err);
    });
    ws.once("close", (code) => {
      ended();
      if (!closing) session.onError(new Error(`WebSocket closed with ${code} before the benchmark ended it`));
    });
  });
}

/** An async iterable fed by `push`, ended by `end`: the request Body of one Sluice session. The
 * client pulls the next event only when its HTTP/2 stream takes more, so a slow path queues here,
 * in the load generator, where open-loop latency counts it. */
class EventQueue implements AsyncIterable<RequestStreamEvent> {
  #items: RequestStreamEvent[] = [];
  #head = 0;
  #waiting: ((r: IteratorResult<RequestStreamEvent>) => void) | undefined;
  #ended = false;

  push(event: RequestStreamEvent): void {
    if (this.#ended) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: event, done: false });
    } else {
      this.#items.push(event);
    }
  }

  end(): void {
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<RequestStreamEvent> {
    return {
      next: () => {
        if (this.#head < this.#items.length) {
          const value = this.#items[this.#head++]!;
          if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
            this.#items = this.#items.slice(this.#head);
            this.#head = 0;
          }
          return Promise.resolve({ value, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiting = resolve));
      },
    };
  }
}

function sluiceFactory(target: Extract<Target, { kind: "sluice" }>): SessionFactory {
  interface Slot { client: SageMakerRuntimeHTTP2Client; opened: number; ended: number }
  const slots = new Set<Slot>();
  let current: Slot | undefined;
  // A client whose every session has ended is destroyed at once, so a run that opens thousands
  // of sessions one after another does not leave thousands of idle HTTP/2 connections behind.
  const ended = (slot: Slot) => {
    slot.ended++;
    if (slot.opened >= target.sessionsPerConnection && slot.ended === slot.opened) {
      slot.client.destroy();
      slots.delete(slot);
    }
  };
  return {
    async open() {
      if (!current || current.opened >= target.sessionsPerConnection) {
        current = {
          client: new SageMakerRuntimeHTTP2Client({ endpoint: target.url, region: target.region, credentials: target.credentials }),
          opened: 0,
          ended: 0,
        };
        slots.add(current);
      }
      const slot = current;
      slot.opened++;
      try {
        const session = await openSluiceSession(slot.client, target.endpointName);
        void session.ended.then(() => ended(slot));
        return session;
      } catch (err) {
        ended(slot);
        throw err;
      }
    },
    dispose: () => {
      for (const slot of slots) slot.client.destroy();
      slots.clear();
    },
  };
}

async function openSluiceSession(client: SageMakerRuntimeHTTP2Client, endpointName: string): Promise<BenchSession & { ended: Promise<void> }> {
  const input = new EventQueue();
  const abort = new AbortController();
  let closing = false;
  const response = await client.send(new InvokeEndpointWithBidirectionalStreamCommand({ EndpointName: endpointName, Body: input }), {
    abortSignal: abort.signal,
  });
  const session: BenchSession & { ended: Promise<void> } = {
    ended: Promise.resolve(),
    send: (data, binary) => input.push({ PayloadPart: { Bytes: data, DataType: binary ? "BINARY" : "UTF8" } }),
    onMessage: () => undefined,
    onError: () => undefined,
    close() {
      closing = true;
      input.push({ PayloadPart: { Bytes: CLOSE_STREAM, DataType: "UTF8" } });
      input.end();
      return reading;
    },
    destroy() {
      closing = true;
      input.end();
      abort.abort();
    },
  };
  const reading = (async () => {
    let parts: Buffer[] = [];
    try {
      for await (const event of response.Body) {
        const part = event.PayloadPart;
        if (!part?.Bytes) continue;
        // A message over the payload limit arrives as PARTIAL…COMPLETE; rejoin it like a WebSocket message.
        parts.push(Buffer.from(part.Bytes.buffer, part.Bytes.byteOffset, part.Bytes.byteLength));
        if (part.CompletionState === "PARTIAL") continue;
        const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        parts = [];
        if (closing && part.DataType === "UTF8" && whole.equals(CLOSE_STREAM)) continue;
        session.onMessage(whole);
      }
      if (!closing) session.onError(new Error("the response stream ended before the benchmark ended it"));
    } catch (err) {
      if (!closing) session.onError(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  session.ended = reading;
  return session;
}
