// The model's HTTP face: GET /ping for health, and Deepgram's live WebSocket on /v1/listen and
// on SageMaker's /invocations-bidirectional-stream (same service). Handshakes are validated
// before the upgrade so a bad parameter gets 400 and an exhausted pool 503, with Deepgram-style
// JSON bodies.
import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { buildErrorBody } from "./deepgram-messages.js";
import type { DecoderPool } from "./decoder-pool.js";
import { CLOSE_GOING_AWAY, ListenSession, type SessionSettings } from "./listen-session.js";
import { ParamError, parseListenParams } from "./query-params.js";

export const LISTEN_PATHS = new Set(["/v1/listen", "/invocations-bidirectional-stream"]);

export interface TranscribeServerOptions {
  pool: DecoderPool;
  session: SessionSettings;
  log: Logger;
  maxMessageBytes: number;
}

export interface TranscribeServer {
  server: Server;
  /** Stops accepting, lets sessions finish for `graceMs`, closes the rest with 1001. */
  shutdown(graceMs: number): Promise<void>;
}

export function createTranscribeServer(opts: TranscribeServerOptions): TranscribeServer {
  const { pool, log } = opts;
  const sessions = new Set<ListenSession>();
  let shuttingDown = false;
  let onAllSessionsEnded: (() => void) | undefined;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes });

  // Deepgram names the request in the 101 response too.
  const requestIds = new WeakMap<IncomingMessage, string>();
  wss.on("headers", (headers, req) => {
    const id = requestIds.get(req);
    if (id) headers.push(`dg-request-id: ${id}`);
  });

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/ping" && (req.method === "GET" || req.method === "HEAD")) {
      // Unhealthy while draining, so the platform stops sending sessions here.
      const body = { status: shuttingDown ? "shutting down" : "ok", decoders: { size: pool.size, available: pool.available } };
      res.writeHead(shuttingDown ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ err_code: "NOT_FOUND", err_msg: `No route for ${req.method} ${path}` }));
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://x");
    const reqLog = log.child({ request_id: requestId, session_id: req.headers["x-deepgram-session-id"] });
    socket.on("error", (err) => reqLog.debug({ err }, "socket error during handshake"));
    if (shuttingDown) {
      refuse(socket, 503, "SERVICE_UNAVAILABLE", "The model is shutting down", requestId);
      return;
    }
    if (!LISTEN_PATHS.has(url.pathname)) {
      refuse(socket, 404, "NOT_FOUND", `No WebSocket service at ${url.pathname}`, requestId);
      return;
    }
    let options;
    try {
      options = parseListenParams(url.searchParams);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      reqLog.info({ reason: err.message }, "refused handshake: bad parameter");
      refuse(socket, 400, "INVALID_QUERY_PARAMETER", err.message, requestId);
      return;
    }
    if (options.unknown.length) reqLog.info({ params: options.unknown }, "accepted unknown query parameters");
    if (options.notHonoured.length) reqLog.info({ params: options.notHonoured }, "accepted parameters this engine does not honour");
    const wanted = options.multichannel ? options.channels : 1;
    const decoders = pool.tryAcquire(wanted);
    if (!decoders) {
      reqLog.warn({ wanted, available: pool.available, size: pool.size }, "refused handshake: decoder pool exhausted");
      refuse(socket, 503, "SERVICE_UNAVAILABLE", `All ${pool.size} decoders are busy; retry later`, requestId);
      return;
    }
    requestIds.set(req, requestId);
    let upgraded = false;
    // handleUpgrade refuses a malformed upgrade (bad Sec-WebSocket-Key …) by itself, without
    // calling back: the decoders go back to the pool when that socket closes.
    socket.once("close", () => {
      if (!upgraded) for (const d of decoders) pool.release(d);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      reqLog.info({ path: url.pathname, model: options.model, encoding: options.encoding, sample_rate: options.sampleRate, tags: options.tags }, "session opened");
      const session = new ListenSession(ws, options, decoders, pool, opts.session, reqLog, requestId);
      sessions.add(session);
      ws.on("close", () => {
        sessions.delete(session);
        if (sessions.size === 0) onAllSessionsEnded?.();
      });
    });
  });

  return {
    server,
    async shutdown(graceMs: number) {
      // No new sessions (503) and /ping answers 503, but the listener stays open through the
      // grace period so callers see why; open sessions may finish (CloseStream) before 1001.
      shuttingDown = true;
      if (sessions.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
          new Promise<void>((resolve) => (onAllSessionsEnded = resolve)),
        ]);
        clearTimeout(timer);
        for (const s of sessions) s.terminate(CLOSE_GOING_AWAY, "server shutting down");
      }
      const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await listenerClosed;
      await pool.close();
    },
  };
}

function refuse(socket: Duplex, status: number, code: string, message: string, requestId: string): void {
  const body = JSON.stringify(buildErrorBody(code, message, requestId));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `dg-request-id: ${requestId}\r\n` +
      `dg-error: ${message.replace(/[\r\n]/g, " ")}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
