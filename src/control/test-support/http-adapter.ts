// A minimal HTTP front for ControlPlane.handle, so tests can drive it with real AWS clients
// (the product's listener, with signatures and limits, lives in server/).

import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import type { ControlPlane } from "../control-plane.js";

/** Serves the plane on 127.0.0.1 until the test ends; returns its URL. */
export async function serveControlPlane(t: TestContext, plane: ControlPlane, region = "us-east-1"): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const requestId = `test-${++n}`;
      void plane
        .handle({ target: String(req.headers["x-amz-target"]), body: Buffer.concat(chunks), region, requestId })
        .then((r) => {
          res
            .writeHead(r.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": requestId })
            .end(JSON.stringify(r.body));
        });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
