// One port for everything (DESIGN §1): without TLS, each connection is sniffed for the HTTP/2
// connection preface (h2c with prior knowledge) and otherwise handed to HTTP/1.1; with TLS, ALPN
// picks h2 or http/1.1. Both paths end in the same compat-API request handler.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Settings for every HTTP/2 session (DESIGN §2 limits). */
  http2: {
    maxConcurrentStreams: number;
    maxHeaderListSize: number;
  };
  /**
   * An HTTP/2 connection that has had no open stream for this long is closed (0: never).
   * Besides tidying pooled connections, this is what frees a connection whose HTTP/2 state
   * machine has given up: after an HPACK error nghttp2 sends GOAWAY and stops reading, but Node
   * never closes the socket, so a peer that stays connected would hold it forever.
   */
  connectionIdleTimeoutMs?: number;
  /**
   * Every this often, each HTTP/2 connection is sent a PING; one that leaves a PING unanswered
   * for two intervals is destroyed, with its streams (0: off). A dead peer is found this way, and so is
   * a session nghttp2 has terminated after a protocol error (GOAWAY sent, reading stopped): Node
   * reports nothing, its PINGs stay queued, and any stream still open in it would otherwise hold
   * the connection, and a bidi session's slot and container, forever.
   */
  connectionPingIntervalMs?: number;
  onRequest: RequestHandler;
  /** Sessions are handed out so the runtime can watch GOAWAY and close them on shutdown. */
  onSession?: (session: http2.ServerHttp2Session) => void;
  onError?: (err: Error) => void;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const SNIFF_TIMEOUT_MS = 10_000;

export interface Listener {
  readonly url: string;
  readonly port: number;
  /** Stop accepting; existing connections are closed after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  connectionCount(): number;
}

export async function listen(options: ListenerOptions): Promise<Listener> {
  const settings: http2.Settings = {
    maxConcurrentStreams: options.http2.maxConcurrentStreams,
    maxHeaderListSize: options.http2.maxHeaderListSize,
    enablePush: false,
  };
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const onError = options.onError ?? (() => {});

  const trackSession = (session: http2.ServerHttp2Session): void => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", onError);
    // Our own timer rather than session.setTimeout(): Node never clears that one when the
    // session closes (setTimeout(0) is a no-op once destroyed), so every closed connection
    // stayed in memory until its timer fired. The fuzz test's heap check found that.
    const idleMs = options.connectionIdleTimeoutMs ?? 0;
    let openStreams = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (idleMs <= 0 || session.destroyed) return;
      idleTimer = setTimeout(() => session.destroy(), idleMs);
      idleTimer.unref();
    };
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      openStreams++;
      clearTimeout(idleTimer);
      stream.once("close", () => {
        if (--openStreams === 0) armIdle();
      });
    });
    session.once("close", () => clearTimeout(idleTimer));
    armIdle();

    const pingMs = options.connectionPingIntervalMs ?? 0;
    if (pingMs > 0) {
      // Ticks the current PING has gone unanswered; two are allowed, so a busy peer (or a
      // stall of our own event loop) is not mistaken for a dead one.
      let outstanding = false;
      let missed = 0;
      const pinger = setInterval(() => {
        if (session.destroyed) return;
        if (outstanding) {
          if (++missed < 2) return;
          // After a stall, timers run before pending I/O is read: look again once this turn's
          // I/O (perhaps the answer) has been processed.
          setImmediate(() => {
            if (outstanding && !session.destroyed) session.destroy();
          });
          return;
        }
        outstanding = true;
        missed = 0;
        try {
          session.ping((err) => {
            if (!err) outstanding = false;
          });
        } catch {
          session.destroy();
        }
      }, pingMs);
      pinger.unref();
      session.once("close", () => clearInterval(pinger));
    }
    options.onSession?.(session);
  };

  let server: net.Server;
  if (options.tls) {
    const secure = http2.createSecureServer({
      cert: options.tls.cert,
      key: options.tls.key,
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
      settings,
      maxSessionMemory: 64,
    });
    secure.on("request", options.onRequest);
    secure.on("session", trackSession);
    secure.on("tlsClientError", () => {});
    server = secure;
  } else {
    const h2 = http2.createServer({ settings, maxSessionMemory: 64 });
    h2.on("request", options.onRequest);
    h2.on("session", trackSession);
    const h1 = http.createServer({ maxHeaderSize: options.http2.maxHeaderListSize });
    h1.on("request", options.onRequest);
    h1.on("clientError", (err: Error & { code?: string }, socket) => {
      // A header section over the limit is 431 (RFC 6585), not a generic 400: the client can act on it.
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    });
    server = net.createServer((socket) => sniff(socket, h1, h2));
  }

  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("error", onError);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${options.tls ? "https" : "http"}://${hostForUrl}:${address.port}`;

  return {
    url,
    port: address.port,
    connectionCount: () => sockets.size,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.close();
        const timer = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, graceMs);
        timer.unref();
        if (sockets.size === 0) clearTimeout(timer);
      }),
  };
}

/**
 * Reads just enough of a new connection to tell the HTTP/2 preface from an HTTP/1.1 request
 * line, puts the bytes back and hands the socket to the matching server.
 */
function sniff(socket: net.Socket, h1: http.Server, h2: http2.Http2Server): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const isH2Prefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isH2Prefix && seen.length < PREFACE.length) return;
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("error", onEarlyError);
    socket.pause();
    socket.unshift(seen);
    if (isH2Prefix) {
      // The HTTP/2 session takes the socket's handle and reads what is already buffered on the
      // next tick; resuming here would drain those bytes into a stream nobody reads.
      h2.emit("connection", socket);
    } else {
      h1.emit("connection", socket);
      socket.resume();
    }
  };
  const onEarlyError = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.on("data", onData);
  socket.on("error", onEarlyError);
  socket.on("close", () => clearTimeout(timer));
}
