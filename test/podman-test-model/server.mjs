// A tiny model for the container host's tests: SageMaker's contract (GET /ping, POST
// /invocations, a WebSocket echo at /invocations-bidirectional-stream) on SAGEMAKER_BIND_TO_PORT,
// plus probes the tests read: /env (its environment), /model (what /opt/ml/model holds and
// whether it is writable), /argv; /alloc grows memory until the limit kills it. IGNORE_SIGTERM=1 makes `stop` escalate to SIGKILL.
import { createServer } from "node:http";
import { readdirSync, writeFileSync } from "node:fs";
import { WebSocketServer } from "ws";

const port = Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080);
const server = createServer((req, res) => {
  const json = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.url === "/ping") return json(200, { status: "ok" });
  if (req.url === "/env") return json(200, process.env);
  if (req.url === "/argv") return json(200, process.argv.slice(2));
  if (req.url === "/model") {
    let files = null;
    let writable = false;
    try {
      files = readdirSync("/opt/ml/model");
      writeFileSync("/opt/ml/model/probe", "x");
      writable = true;
    } catch {}
    return json(200, { files, writable });
  }
  if (req.url === "/alloc") {
    // Touch memory until the container's limit stops it (the OOM test).
    const hog = [];
    const grow = () => {
      for (let i = 0; i < 16; i++) hog.push(Buffer.alloc(1024 * 1024, 1));
      setImmediate(grow);
    };
    grow();
    return json(202, { growing: true });
  }
  if (req.url === "/invocations" && req.method === "POST") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => json(200, { echo: Buffer.concat(chunks).toString() }));
    return;
  }
  json(404, { error: "not found" });
});

const wss = new WebSocketServer({ server, path: "/invocations-bidirectional-stream", perMessageDeflate: false });
wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));

server.listen(port, "0.0.0.0", () => {
  console.log(`test-model: listening on ${port} argv=${process.argv.slice(2).join(" ")}`);
  console.error("test-model: a line on stderr");
});

process.on("SIGTERM", () => {
  if (process.env.IGNORE_SIGTERM === "1") return console.log("test-model: ignoring SIGTERM");
  console.log("test-model: SIGTERM, closing");
  server.close();
  wss.close();
  process.exit(0);
});
