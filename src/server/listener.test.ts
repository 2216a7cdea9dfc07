import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { listen, type Listener } from "./listener.js";

async function start(): Promise<Listener> {
  return listen({
    host: "127.0.0.1",
    port: 0,
    http2: { maxConcurrentStreams: 100, maxHeaderListSize: 65536 },
    onRequest: (req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end(`v${req.httpVersion} ${req.url}`);
    },
  });
}

function h1Get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

function h2Get(origin: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    session.on("error", reject);
    const stream = session.request({ ":path": path });
    let body = "";
    stream.setEncoding("utf8");
    stream.on("data", (c) => (body += c));
    stream.on("end", () => {
      session.close();
      resolve(body);
    });
    stream.on("error", reject);
  });
}

test("one port serves HTTP/1.1 and h2c with prior knowledge", async () => {
  const listener = await start();
  try {
    assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await h1Get(`${listener.url}/a`), "v1.1 /a");
    assert.equal(await h2Get(listener.url, "/b"), "v2.0 /b");
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? h1Get : (u: string) => h2Get(u, `/${i}`))(`${listener.url}/${i}`)));
    many.forEach((body, i) => assert.equal(body, i % 2 ? `v1.1 /${i}` : `v2.0 /${i}`));
  } finally {
    await listener.close();
  }
});
