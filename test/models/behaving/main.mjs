// A test model whose behaviour the test picks through its CreateModel Environment, and which
// reports what it saw as JSON lines appended to REPORT_FILE, so tests can check the container's
// side of a session. Plain JS on purpose: models are separate programs that run as they are.
//
//   MODE=record (default)  WebSocket on every path: echoes each message (text as text, binary as
//                          binary) and reports open / message / close. Text control messages:
//                          {"type":"owe","count":N,"after":PATH}  waits until PATH exists, then
//                              sends "owed 0".."owed N-1" and closes 1000;
//                          {"type":"flood","total":BYTES,"chunk":BYTES}  sends BYTES in binary
//                              messages whose bytes count up (byte i of the stream = i mod 251),
//                              never letting its own send buffer exceed one chunk, reports
//                              "blocked" once it had to wait, then closes 1000.
//   MODE=nopong            pings are not answered (ws autoPong off); each ping is reported.
//   MODE=refuse            every upgrade is answered 403 with a body; reports "upgrade".
//
// Every mode reports each upgrade attempt ("upgrade") before acting on it.
import { appendFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const mode = process.env.MODE ?? "record";
const reportFile = process.env.REPORT_FILE;
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080);
const host = process.env.SLUICE_BIND_HOST ?? "0.0.0.0";

function report(event) {
  if (reportFile) appendFileSync(reportFile, JSON.stringify({ pid: process.pid, ...event }) + "\n");
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: mode !== "nopong", maxPayload: 64 * 1024 * 1024 });

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/ping") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"healthy"}');
  } else {
    res.writeHead(404).end();
  }
});

server.on("upgrade", (req, socket, head) => {
  const [path, ...rest] = (req.url ?? "/").split("?");
  const query = rest.join("?");
  report({ event: "upgrade", path, query });
  if (mode === "refuse") {
    const body = "this model takes no sessions";
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => session(ws, path, query));
});

function session(ws, path, query) {
  // Every line of a session carries its query string, so a test can pick out its own session.
  const note = (event) => report({ query, ...event });
  note({ event: "open", path });
  ws.on("ping", () => note({ event: "ping" }));
  ws.on("close", (code, reason) => note({ event: "close", code, reason: reason.toString("utf8") }));
  ws.on("error", (err) => note({ event: "error", message: String(err) }));
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? undefined : data.toString("utf8");
    note({ event: "message", binary: isBinary, bytes: data.length, text: text !== undefined && text.length <= 256 ? text : undefined });
    const control = text !== undefined && text.startsWith("{") && text.length <= 1024 ? parse(text) : undefined;
    if (control?.type === "owe") return owe(ws, control, note);
    if (control?.type === "flood") return flood(ws, control, note);
    ws.send(data, { binary: isBinary });
  });
}

function owe(ws, { count, after }, report) {
  const timer = setInterval(() => {
    if (!existsSync(after)) return;
    clearInterval(timer);
    for (let i = 0; i < count; i++) ws.send(`owed ${i}`);
    report({ event: "owed", count });
    ws.close(1000, "paid");
  }, 10);
}

function flood(ws, { total, chunk }, report) {
  let sent = 0;
  let blocked = false;
  const pump = () => {
    while (sent < total && ws.readyState === ws.OPEN) {
      if (ws.bufferedAmount > chunk) {
        if (!blocked) report({ event: "blocked", sent });
        blocked = true;
        setTimeout(pump, 5);
        return;
      }
      const size = Math.min(chunk, total - sent);
      const bytes = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) bytes[i] = (sent + i) % 251;
      ws.send(bytes, { binary: true });
      sent += size;
    }
    report({ event: "flooded", sent });
    ws.close(1000, "flooded");
  };
  pump();
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

server.listen({ host, port }, () => console.log(JSON.stringify({ msg: "behaving model listening", mode, port, pid: process.pid })));
process.once("SIGTERM", () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
