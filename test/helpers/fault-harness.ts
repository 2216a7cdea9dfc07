// What the fault, routing and metrics tests share: a bidi session a test drives message by
// message and whose every response it records, /metrics read as numbers, and small test models.
import * as http2 from "node:http2";
import type { StreamError } from "../../src/protocol/events.js";
import { openRawBidi, text, utf8, type RawBidi } from "./raw-bidi.js";
import { TEST_KEY, waitFor } from "./sluice.js";

export interface Session {
  bidi: RawBidi;
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** Text of every PayloadPart received so far, in order. */
  received: string[];
  /** Every message this helper sent, in order. */
  sent: string[];
  /** The exception event, once one arrived. */
  error: StreamError | undefined;
  /** Kinds of the response messages in arrival order ("part", "stream-error", …). */
  kinds: string[];
  /** Resolves when the response stream has ended (however it ended). */
  ended: Promise<void>;
  isEnded(): boolean;
  /** The JSON error body of a non-200 answer. */
  errorBody(): Promise<Record<string, unknown>>;
  send(message: string): Promise<void>;
  /** Sends a text message and waits until the echo of it arrived. */
  roundTrip(message: string): Promise<void>;
  /** `{"type":"sluice.echo.info"}`: which instance and process serve this session. */
  info(): Promise<{ instanceId: string; pid: number }>;
  /** CloseStream, then the end of input: the echo closes 1000 and the session ends cleanly. */
  finish(): Promise<void>;
  cancel(): void;
}

export interface OpenOptions {
  url: string;
  endpointName: string;
  headers?: Record<string, string>;
  /** Share one HTTP/2 connection between sessions. */
  connection?: http2.ClientHttp2Session;
}

/** Opens a signed bidi session and waits for the response headers (any status). */
export async function openSession(options: OpenOptions): Promise<Session> {
  const bidi = await openRawBidi({
    url: options.url,
    endpointName: options.endpointName,
    credentials: TEST_KEY,
    headers: options.headers,
    session: options.connection,
  });
  const headers = await bidi.response;
  const status = Number(headers[":status"]);
  const received: string[] = [];
  const kinds: string[] = [];
  const sent: string[] = [];
  const sendText = (message: string): Promise<void> => {
    sent.push(message);
    return bidi.send(utf8(message));
  };
  let error: StreamError | undefined;
  let ended = false;
  let seen = 0;
  const s: Session = {
    bidi,
    status,
    headers,
    received,
    sent,
    kinds,
    get error() {
      return error;
    },
    ended: bidi.body.then(() => {
      ended = true;
    }),
    isEnded: () => ended,
    errorBody: async () => JSON.parse((await bidi.body).toString("utf8")) as Record<string, unknown>,
    send: sendText,
    roundTrip: async (message) => {
      const before = received.length;
      await sendText(message);
      await waitFor(`the echo of ${message}`, () => (received.length > before || ended ? true : undefined), 30_000, 10);
      if (received[before] !== message) throw new Error(`expected the echo of ${message}, got ${received[before] ?? "the end"}`);
    },
    info: async () => {
      const before = received.length;
      await sendText('{"type":"sluice.echo.info"}');
      await waitFor("sluice.echo.info", () => (received.length > before || ended ? true : undefined), 30_000, 10);
      return JSON.parse(received[before]!) as { instanceId: string; pid: number };
    },
    finish: async () => {
      await sendText('{"type":"CloseStream"}');
      await bidi.end();
      await s.ended;
    },
    cancel: () => bidi.stream.close(http2.constants.NGHTTP2_CANCEL),
  };
  if (status === 200) {
    // Record messages as they arrive, so a test can look at a session while it is open.
    const pump = async (): Promise<void> => {
      for (;;) {
        const batch = await Promise.race([bidi.waitForMessages(seen + 1), bidi.body.then(() => undefined)]);
        if (batch === undefined) break;
        for (const m of batch.slice(seen)) {
          kinds.push(m.kind === "event" ? "part" : m.kind);
          if (m.kind === "event") received.push(text(m.event.PayloadPart.Bytes));
          else if (m.kind === "stream-error") error = m.error;
        }
        seen = batch.length;
      }
      // Whatever arrived together with the end.
      const all = await bidi.messages();
      for (const m of all.slice(seen)) {
        kinds.push(m.kind === "event" ? "part" : m.kind);
        if (m.kind === "event") received.push(text(m.event.PayloadPart.Bytes));
        else if (m.kind === "stream-error") error = m.error;
      }
    };
    s.ended = pump().then(() => {
      ended = true;
    });
  }
  return s;
}

/** Prometheus text as `name{label="v",...}` → value, labels in the order prom-client writes them. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(new URL("/metrics", url));
  const body = await res.text();
  const out = new Map<string, number>();
  for (const line of body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** One sample, 0 when absent (a counter never incremented is not written). */
export function sample(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  let total = 0;
  let found = false;
  for (const [key, value] of metrics) {
    const brace = key.indexOf("{");
    const metric = brace === -1 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labelText = brace === -1 ? "" : key.slice(brace);
    if (wanted.every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      total += value;
      found = true;
    }
  }
  return found ? total : 0;
}

export function connect(url: string): http2.ClientHttp2Session {
  const c = http2.connect(new URL(url).origin);
  c.on("error", () => {});
  // The raw bidi helper adds an error listener per session on a shared connection.
  c.setMaxListeners(0);
  return c;
}

/** The echo protocol over `ws`, but the upgrade answered 503 on every path: /ping stays 200. */
export const REFUSES_UPGRADES_MODEL = `
import { createServer } from "node:http";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
const server = createServer((req, res) => res.writeHead(200).end());
server.on("upgrade", (req, socket) => {
  console.log("refuses-upgrades: upgrade to " + req.url + " refused");
  socket.end("HTTP/1.1 503 Service Unavailable\\r\\ncontent-type: text/plain\\r\\ncontent-length: 12\\r\\nconnection: close\\r\\n\\r\\nmodel busy\\r\\n");
});
server.listen(port, "127.0.0.1");
`;

/** /ping 200, but an upgrade is never answered: the connection stays open and silent. */
export const SLOW_UPGRADES_MODEL = `
import { createServer } from "node:http";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
const held = [];
const server = createServer((req, res) => res.writeHead(200).end());
server.on("upgrade", (req, socket) => {
  console.log("slow-upgrades: holding the upgrade to " + req.url);
  held.push(socket);
  socket.on("error", () => {});
});
server.listen(port, "127.0.0.1");
`;

/** Healthy until the file named by CRASH_FILE exists; then it exits 3 (and at once on start). */
export const CRASHES_ON_FILE_MODEL = `
import { createServer } from "node:http";
import { existsSync } from "node:fs";
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT);
const check = () => {
  if (existsSync(process.env.CRASH_FILE)) {
    console.error("crashes-on-file: FATAL " + process.env.CRASH_FILE + " exists");
    process.exit(3);
  }
};
check();
setInterval(check, 100);
createServer((req, res) => res.writeHead(200).end()).listen(port, "127.0.0.1");
`;
