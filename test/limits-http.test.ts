// Issue 5 scope 4, the connection-level limits (DESIGN §2), each at its edge: the request header
// list (HTTP/2 RST_STREAM, HTTP/1.1 431), streams per HTTP/2 connection (REFUSED_STREAM), and
// the control-plane body (413). Frames are written by hand (helpers/raw-h2) so sizes are exact.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { signRequest } from "../src/protocol/sigv4-sign-request.js";
import { startInProcess, type InProcessSluice } from "./helpers/in-process.js";
import { H2_ERROR, headerListSize, RawH2 } from "./helpers/raw-h2.js";
import { TEST_KEY, waitFor } from "./helpers/sluice.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** HTTP/2 error code for an HPACK failure: a connection error. */
const COMPRESSION_ERROR = 9;

let sluice: InProcessSluice;

before(async () => {
  // Every limit here is at its default (the defaults are what is promised), except the idle
  // connection timeout and PING interval, short so a connection Sluice should let go of goes
  // within the test.
  sluice = await startInProcess(["--connection-idle-timeout", "1s", "--connection-ping-interval", "300ms"]);
});
after(async () => {
  await sluice?.cleanup();
});

const healthz: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/healthz"],
  [":authority", "sluice.test"],
];

/** `healthz` plus `x-pad-N` fields of at most 8 KiB each, making a header list of exactly `total` bytes (RFC 7540 §6.5.2). */
function headerListOf(total: number): [string, string][] {
  const headers = [...healthz];
  let left = total - headerListSize(headers);
  for (let i = 0; left > 0; i++) {
    const name = `x-pad-${String(i).padStart(3, "0")}`;
    const value = Math.min(8 * KiB, left - 32 - name.length);
    if (value < 0) throw new Error("cannot pad to that size");
    // The last field takes what is left exactly, so it may be short.
    headers.push([name, "p".repeat(value)]);
    left -= 32 + name.length + value;
  }
  assert.equal(headerListSize(headers), total);
  return headers;
}

function settled(h2: RawH2, id: number): () => boolean {
  return () => {
    const s = h2.streams.get(id)!;
    return s.responded || s.rstCode !== undefined || h2.goaway !== undefined;
  };
}

describe("request header list (64 KiB)", () => {
  test("HTTP/2: a header list of exactly 64 KiB is served; one byte more resets only that stream (ENHANCE_YOUR_CALM)", async () => {
    const h2 = await RawH2.connect(sluice.url);
    try {
      const atLimit = h2.request(headerListOf(64 * KiB), { endStream: true });
      await h2.until(settled(h2, atLimit), "an answer at the limit");
      assert.equal(h2.streams.get(atLimit)!.responded, true);

      const over = h2.request(headerListOf(64 * KiB + 1), { endStream: true });
      await h2.until(settled(h2, over), "an answer one byte over");
      assert.equal(h2.streams.get(over)!.rstCode, H2_ERROR.ENHANCE_YOUR_CALM);
      assert.equal(h2.streams.get(over)!.responded, false);

      // The connection carries on.
      const next = h2.request(healthz, { endStream: true });
      await h2.until(settled(h2, next), "the next request");
      assert.equal(h2.streams.get(next)!.responded, true);
      assert.equal(h2.goaway, undefined);
    } finally {
      h2.close();
    }
  });

  // nghttp2's HPACK decoder holds one field in a buffer of about 64 KiB; a field past that is a
  // decoding (connection) error before the header list is ever counted.
  // Regression: nghttp2 sent GOAWAY and stopped reading, but Node never closed the socket, so a
  // client that stayed connected held it (and its session state) forever. The idle connection
  // timeout now closes it.
  test("HTTP/2: a single 128 KiB header field is an HPACK error that ends that connection only, and Sluice closes it", async () => {
    const h2 = await RawH2.connect(sluice.url);
    try {
      h2.request([...healthz, ["x-huge", "h".repeat(128 * KiB)]], { endStream: true });
      await h2.until(() => h2.goaway !== undefined, "GOAWAY");
      assert.equal(h2.goaway!.code, COMPRESSION_ERROR);
      // We keep the socket open: closing it is Sluice's job.
      await h2.whenClosed();
    } finally {
      h2.close();
    }
    await waitFor("the connection count back to 0", () => (sluice.server.stats().connections === 0 ? true : undefined), 10_000, 20);
    const next = await RawH2.connect(sluice.url);
    try {
      const id = next.request(healthz, { endStream: true });
      await next.until(settled(next, id), "a new connection's answer");
      assert.equal(next.streams.get(id)!.responded, true);
    } finally {
      next.close();
    }
  });

  // Regression (found by the fuzz test's random HTTP/2 frames): with a stream still open, the
  // idle timer never fires, and after nghttp2 gave up on the connection Node no longer reads it,
  // so not even the client closing its socket was noticed: the connection and the stream were
  // held forever. The PING probe now finds such a connection and closes it.
  test("regression: a connection whose HTTP/2 state gave up while a stream was open is closed", async () => {
    const h2 = await RawH2.connect(sluice.url);
    try {
      const held = h2.request([
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/"],
        [":authority", "sluice.test"],
        ["x-amz-target", "SageMaker.ListEndpoints"],
        ["content-type", "application/x-amz-json-1.1"],
      ]);
      h2.request([...healthz, ["x-huge", "h".repeat(128 * KiB)]], { endStream: true });
      await h2.until(() => h2.goaway !== undefined, "GOAWAY");
      assert.equal(h2.streams.get(held)!.rstCode, undefined, "the held stream was not reset");
      // The client keeps its socket open; Sluice closes the connection.
      await h2.whenClosed();
    } finally {
      h2.close();
    }
    await waitFor("the connection count back to 0", () => (sluice.server.stats().connections === 0 ? true : undefined), 10_000, 20);
  });

  test("HTTP/1.1: a header section of exactly 64 KiB is served; past it the answer is 431", async () => {
    // Node's parser counts the header section after the request line, without its final LF.
    const statusFor = (sectionBytes: number): Promise<string> => {
      const requestLine = "GET /healthz HTTP/1.1\r\n";
      const fixed = "host: sluice.test\r\nx-pad: ";
      const pad = sectionBytes - fixed.length - "\r\n\r\n".length;
      const head = requestLine + fixed + "p".repeat(pad) + "\r\n\r\n";
      assert.equal(head.length - requestLine.length, sectionBytes);
      return new Promise((resolve, reject) => {
        const { port } = new URL(sluice.url);
        const socket = net.connect(Number(port), "127.0.0.1");
        let got = "";
        socket.on("data", (c: Buffer) => {
          got += c.toString("latin1");
          if (got.includes("\r\n")) {
            socket.destroy();
            resolve(got.slice(0, got.indexOf("\r\n")));
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(got));
        socket.write(head);
      });
    };
    assert.equal(await statusFor(64 * KiB), "HTTP/1.1 200 OK");
    assert.equal(await statusFor(64 * KiB + 2), "HTTP/1.1 431 Request Header Fields Too Large");
  });
});

describe("streams per HTTP/2 connection (1,000)", () => {
  // A request Sluice holds open: the control plane waits for its body.
  const pending: [string, string][] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "sluice.test"],
    ["x-amz-target", "SageMaker.ListEndpoints"],
    ["content-type", "application/x-amz-json-1.1"],
  ];

  test("1,000 open streams are served; the 1,001st gets REFUSED_STREAM and the others carry on", async () => {
    // A client that opens streams before acknowledging the server's SETTINGS (as a client
    // that starts at once does) must not lose its connection for it.
    const h2 = await RawH2.connect(sluice.url, [], { ackSettings: false });
    try {
      assert.equal(h2.serverSettings.get(3 /* SETTINGS_MAX_CONCURRENT_STREAMS */), 1000);
      const ids = Array.from({ length: 1001 }, () => h2.request(pending));
      const refused = ids[1000]!;
      await h2.until(() => h2.streams.get(refused)!.rstCode !== undefined, "the 1,001st stream's reset");
      assert.equal(h2.streams.get(refused)!.rstCode, H2_ERROR.REFUSED_STREAM);
      assert.deepEqual(
        ids.slice(0, 1000).filter((id) => h2.streams.get(id)!.rstCode !== undefined),
        [],
        "no other stream was reset",
      );
      // The 1,000th is alive: given its body, it is answered (403: the request is unsigned).
      const last = ids[999]!;
      h2.data(last, Buffer.from("{}"), true);
      await h2.until(() => h2.streams.get(last)!.responded, "the 1,000th stream's answer");
      // With one stream done there is room again.
      const again = h2.request(healthz, { endStream: true });
      await h2.until(settled(h2, again), "a new stream's answer");
      assert.equal(h2.streams.get(again)!.responded, true);
      assert.equal(h2.goaway, undefined);
    } finally {
      h2.close();
    }
    await waitFor("the connection to be gone", () => (sluice.server.stats().connections === 0 ? true : undefined), 10_000, 20);
  });
  // nghttp2 treats streams past a limit the client has acknowledged as a connection error, not
  // the stream error RFC 9113 §5.1.2 asks for; Node offers no hook before that check. Such a
  // client broke the protocol knowingly, and only its own connection goes.
  test("a client that opens a 1,001st stream after acknowledging the limit loses only its own connection", async () => {
    const bystander = await RawH2.connect(sluice.url);
    const h2 = await RawH2.connect(sluice.url);
    try {
      const held = bystander.request(pending);
      for (let i = 0; i < 1001; i++) h2.request(pending);
      await h2.until(() => h2.goaway !== undefined, "GOAWAY");
      await h2.whenClosed();
      bystander.data(held, Buffer.from("{}"), true);
      await bystander.until(settled(bystander, held), "the other connection's answer");
      assert.equal(bystander.streams.get(held)!.responded, true, JSON.stringify({ stream: bystander.streams.get(held), goaway: bystander.goaway }));
    } finally {
      h2.close();
      bystander.close();
    }
  });
});

describe("control-plane body (1 MiB)", () => {
  async function post(body: Buffer, options: { chunked?: boolean } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = new URL(sluice.url);
    const headers: Record<string, string> = {
      host: url.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "SageMaker.ListEndpoints",
    };
    const signed = await signRequest({ method: "POST", path: "/", headers, body, region: "us-east-1", credentials: TEST_KEY });
    return new Promise((resolve, reject) => {
      const req = http.request(sluice.url, { method: "POST", headers: signed.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on("error", reject);
      if (options.chunked) {
        // No content-length: the limit must hold while the body streams in.
        for (let i = 0; i < body.length; i += 64 * KiB) req.write(body.subarray(i, i + 64 * KiB));
        req.end();
      } else {
        req.setHeader("content-length", String(body.length));
        req.end(body);
      }
    });
  }

  /** `{}` padded with spaces to `n` bytes: valid JSON of exactly that size. */
  const jsonOf = (n: number): Buffer => Buffer.from("{}" + " ".repeat(n - 2));

  for (const chunked of [false, true]) {
    test(`a body of exactly 1 MiB is served; one byte more is 413 (${chunked ? "chunked" : "content-length"})`, async () => {
      const ok = await post(jsonOf(MiB), { chunked });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json.Endpoints, []);
      const over = await post(jsonOf(MiB + 1), { chunked });
      assert.equal(over.status, 413);
      assert.equal(over.json.__type, "RequestEntityTooLarge");
    });
  }
});
