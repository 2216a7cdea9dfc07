// The echo model (DESIGN §2, issue 2 scope 7): the smallest program that honours the whole
// container contract, used by the examples and by every end-to-end test of the data path.
//   GET|POST /ping            → 200
//   POST /invocations         → the body back, chunk by chunk as it arrives, same content-type
//   WebSocket on every path   → text echoed as text, binary as binary;
//                               {"type":"sluice.echo.info"} → {instanceId, pid, path, query};
//                               {"type":"CloseStream"} is echoed, then the socket closes 1000.

import { pipeline } from "node:stream/promises";
import type { RawData, WebSocket } from "ws";
import { runModelServer, type WebSocketRequest } from "../../src/container/index.js";

/** Above this many unsent bytes the echo stops reading the client until it catches up. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** The longest text message worth checking for a control message. */
const CONTROL_MAX_BYTES = 256;

const instanceId = process.env.SLUICE_INSTANCE_ID ?? null;

function echo(socket: WebSocket, request: WebSocketRequest): void {
  socket.on("message", (data: RawData, isBinary: boolean) => {
    const payload = data as Buffer; // binaryType "nodebuffer": whole messages, fragments joined
    const control = isBinary ? undefined : controlType(payload);
    if (control === "sluice.echo.info") {
      socket.send(JSON.stringify({ instanceId, pid: process.pid, path: request.path, query: request.query }));
      return;
    }
    // Backpressure end to end: a client that does not read its echoes stops being read.
    socket.send(payload, { binary: isBinary }, () => {
      if (socket.isPaused && socket.bufferedAmount < HIGH_WATER_BYTES / 2) socket.resume();
    });
    if (socket.bufferedAmount > HIGH_WATER_BYTES) socket.pause();
    if (control === "CloseStream") socket.close(1000, "CloseStream");
  });
}

function controlType(payload: Buffer): string | undefined {
  if (payload.length > CONTROL_MAX_BYTES || payload[0] !== 0x7b /* { */) return undefined;
  try {
    const message = JSON.parse(payload.toString("utf8")) as { type?: unknown };
    return typeof message.type === "string" ? message.type : undefined;
  } catch {
    return undefined;
  }
}

await runModelServer({
  webSocket: echo,
  invocations: async (req, res) => {
    res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/octet-stream" });
    res.flushHeaders();
    await pipeline(req, res);
  },
});
