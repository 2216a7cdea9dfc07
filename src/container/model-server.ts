// The SageMaker container contract (protocol.md §4) for model authors: `GET /ping`,
// `POST /invocations` and a WebSocket on SAGEMAKER_BIND_TO_PORT, with a graceful SIGTERM.
// Stands alone: a model is a separate program and imports nothing else of Sluice.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface WebSocketRequest {
  /** The request path, e.g. `/invocations-bidirectional-stream` or `/v1/listen`. */
  path: string;
  /** The raw query string without `?` (SageMaker's `ModelQueryString`), and parsed. */
  query: string;
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface ModelServerOptions {
  /** Default: SAGEMAKER_BIND_TO_PORT, else 8080 as in SageMaker. */
  port?: number;
  /** Default: SLUICE_BIND_HOST (Sluice's process host sets 127.0.0.1), else all interfaces as in a container. */
  host?: string;
  /** Health for `/ping`; 200 when it returns true (default: always). */
  ping?: () => boolean | Promise<boolean>;
  /** `POST /invocations`; without it the path answers 404. */
  invocations?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** Each accepted WebSocket session. */
  webSocket?: (socket: WebSocket, request: WebSocketRequest) => void;
  /** Which paths accept an upgrade (default: every path, since clients choose `ModelInvocationPath`). */
  acceptPath?: (path: string) => boolean;
  /** Largest incoming WebSocket message in bytes (default 100 MiB, as ws). */
  maxPayload?: number;
  /** How long a SIGTERM waits for sockets to close before dropping them (default 5 s). */
  shutdownGraceMs?: number;
}

export interface ModelServer {
  readonly host: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly webSocketServer: WebSocketServer;
  /** Stop accepting, close WebSockets with 1001 "going away", wait for them (capped), close. */
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const port = options.port ?? Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080);
  const host = options.host ?? process.env.SLUICE_BIND_HOST ?? "0.0.0.0";
  const graceMs = options.shutdownGraceMs ?? 5_000;
  const acceptPath = options.acceptPath ?? (() => true);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // Sluice's sidecar never negotiates it; frames stay as sent
    maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
  });

  const httpServer = createServer((req, res) => {
    const path = pathOf(req);
    if (path === "/ping" && (req.method === "GET" || req.method === "POST")) {
      void Promise.resolve(options.ping?.() ?? true).then(
        (healthy) => respond(res, healthy ? 200 : 503, { status: healthy ? "healthy" : "unhealthy" }),
        (err: unknown) => respond(res, 503, { status: "unhealthy", message: String(err) }),
      );
    } else if (path === "/invocations" && req.method === "POST" && options.invocations !== undefined) {
      Promise.resolve(options.invocations(req, res)).catch((err: unknown) => {
        console.error(JSON.stringify({ msg: "invocation failed", error: String(err) }));
        if (!res.headersSent) respond(res, 500, { message: "invocation failed" });
        else res.destroy();
      });
    } else {
      respond(res, 404, { message: `no route for ${req.method} ${path}` });
    }
  });

  httpServer.on("upgrade", (req, socket, head) => {
    const path = pathOf(req);
    if (options.webSocket === undefined || !acceptPath(path)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const query = (req.url ?? "").split("?").slice(1).join("?");
      options.webSocket?.(ws, { path, query, params: new URLSearchParams(query), headers: req.headers });
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen({ host, port }, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const sockets = [...wss.clients];
      for (const ws of sockets) ws.close(1001, "going away");
      const drop = setTimeout(() => {
        for (const ws of sockets) ws.terminate();
        httpServer.closeAllConnections();
      }, graceMs);
      await Promise.all([closed, ...sockets.map(whenClosed)]);
      clearTimeout(drop);
      wss.close();
    })();
    return closing;
  };

  return { host, port: (httpServer.address() as AddressInfo).port, httpServer, webSocketServer: wss, close };
}

/**
 * The program's entry point: accepts `serve` (containers start as `docker run IMAGE serve`),
 * starts the server, and on SIGTERM or SIGINT closes gracefully and exits.
 */
export async function runModelServer(options: ModelServerOptions = {}, argv = process.argv.slice(2)): Promise<ModelServer> {
  if (argv.length > 1 || (argv.length === 1 && argv[0] !== "serve")) {
    console.error(`usage: ${process.argv[1] ?? "model"} [serve]`);
    process.exit(2);
  }
  let server: ModelServer;
  try {
    server = await startModelServer(options);
  } catch (err) {
    // Say it plainly: Sluice looks for EADDRINUSE here to retry on another port.
    const code = (err as NodeJS.ErrnoException).code ?? "";
    console.error(JSON.stringify({ msg: "model server could not listen", code, error: String(err) }));
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: "model server listening", host: server.host, port: server.port, pid: process.pid }));
  const shutdown = (signal: NodeJS.Signals) => {
    console.log(JSON.stringify({ msg: "shutting down", signal }));
    void server.close().then(() => process.exit(0));
  };
  // Once: a second signal falls back to Node's default and ends the program at once, the
  // usual way out of a shutdown that hangs (Ctrl-C twice).
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  return server;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0] || "/";
}

function respond(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function whenClosed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once("close", () => resolve()));
}
