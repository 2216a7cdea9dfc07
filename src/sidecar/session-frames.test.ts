// Frame mapping against a real container: client parts become WebSocket messages of the right
// type, container messages come back as parts, PARTIAL runs become one message or nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PayloadPart } from "../protocol/events.js";
import { openSession, type SidecarSession } from "./index.js";
import { binary, RecordingOutput, startContainer, text, within, type ContainerConnection, type FakeContainer } from "./fake-container.fixture.js";
import type { SidecarOptions } from "./options.js";

function echo(conn: ContainerConnection): void {
  conn.ws.on("message", (data: Buffer, isBinary: boolean) => conn.ws.send(data, { binary: isBinary }));
}

async function setup(t: import("node:test").TestContext, options: Partial<SidecarOptions> = {}, onConnection?: (c: ContainerConnection) => void) {
  const container: FakeContainer = await startContainer({ onConnection });
  const output = new RecordingOutput();
  const session: SidecarSession = await openSession({ url: container.url, ...options }, output);
  const conn = await container.nextConnection();
  t.after(async () => {
    session.cancel();
    await within(session.closed, "session closed");
    await container.close();
  });
  return { container, output, session, conn };
}

test("text and binary round trip with their types preserved; absent DataType is binary", async (t) => {
  const { output, session, conn } = await setup(t, {}, echo);
  session.write(text("héllo"));
  session.write(binary([0, 1, 2, 255]));
  session.write({ Bytes: Buffer.from("raw") });
  session.write(text(""));
  const received = await conn.received(4);
  assert.deepEqual(
    received.map((m) => [m.data.toString("latin1"), m.isBinary]),
    [[Buffer.from("héllo").toString("latin1"), false], ["\x00\x01\x02\xff", true], ["raw", true], ["", false]],
  );
  const parts = await output.received(4);
  assert.deepEqual(
    parts.map((p) => [Buffer.from(p.Bytes).toString("latin1"), p.DataType, p.CompletionState]),
    [
      [Buffer.from("héllo").toString("latin1"), "UTF8", "COMPLETE"],
      ["\x00\x01\x02\xff", "BINARY", "COMPLETE"],
      ["raw", "BINARY", "COMPLETE"],
      ["", "UTF8", "COMPLETE"],
    ],
  );
  assert.equal(session.stats.messagesToModel, 4);
  assert.equal(session.stats.messagesFromModel, 4);
});

test("1,000 messages each way arrive in order", async (t) => {
  const { output, session, conn } = await setup(t, {}, echo);
  for (let i = 0; i < 1000; i++) session.write(i % 2 ? text(`m${i}`) : binary(Buffer.from(`m${i}`)));
  const received = await conn.received(1000);
  assert.deepEqual(received.map((m) => m.data.toString()), Array.from({ length: 1000 }, (_, i) => `m${i}`));
  const parts = await output.received(1000);
  assert.deepEqual(output.texts(), Array.from({ length: 1000 }, (_, i) => `m${i}`));
  assert.deepEqual(parts.map((p) => p.DataType), Array.from({ length: 1000 }, (_, i) => (i % 2 ? "UTF8" : "BINARY")));
});

test("parts handed over in one tick leave in one write: the socket is corked until the tick ends", async (t) => {
  const { session, conn } = await setup(t);
  const socket = (session as unknown as { ws: { _socket: import("node:net").Socket } }).ws._socket;
  for (let i = 0; i < 50; i++) session.write(text(`m${i}`));
  assert.equal(socket.writableCorked, 1, "corked while the tick lasts");
  assert.ok(socket.writableLength > 0, "the frames wait in the socket's buffer");
  await new Promise((r) => process.nextTick(r));
  assert.equal(socket.writableCorked, 0, "uncorked when the tick ends");
  const received = await conn.received(50);
  assert.deepEqual(received.map((m) => m.data.toString()), Array.from({ length: 50 }, (_, i) => `m${i}`));
});

test("a PARTIAL run reaches the container as one message of the first part's type", async (t) => {
  const { session, conn } = await setup(t);
  const euro = Buffer.from("€");
  session.write(text("a", "PARTIAL"));
  session.write({ Bytes: euro.subarray(0, 2), DataType: "UTF8", CompletionState: "PARTIAL" });
  session.write({ Bytes: euro.subarray(2), DataType: "UTF8", CompletionState: "COMPLETE" });
  session.write(binary([1], "PARTIAL"));
  session.write(binary([2], "PARTIAL"));
  session.write({ Bytes: Buffer.from([3]), CompletionState: "COMPLETE" });
  session.write(text("after"));
  const received = await conn.received(3);
  assert.deepEqual(
    received.map((m) => [m.data.toString("latin1"), m.isBinary]),
    [[Buffer.from("a€").toString("latin1"), false], ["\x01\x02\x03", true], ["after", false]],
  );
  assert.equal(session.stats.messagesToModel, 3);
});

async function expectRunRejected(
  t: import("node:test").TestContext,
  run: (session: SidecarSession) => void,
  reason: string,
  closeCode: number,
  options: Partial<SidecarOptions> = {},
) {
  const { output, session, conn } = await setup(t, options);
  session.write(text("before"));
  await conn.received(1);
  run(session);
  const error = await output.ended();
  assert.deepEqual(error, { kind: "InternalStreamFailure", Message: reason });
  // The container sees our Close only after every data frame sent before it.
  const closed = await within(conn.closed, "the container to see the close");
  assert.equal(closed.code, closeCode);
  assert.deepEqual(conn.messages.map((m) => m.data.toString()), ["before"]);
  const summary = await within(session.closed, "session closed");
  assert.equal(summary.endedBy, "client");
  assert.ok(summary.detail, "an operator-facing detail is kept");
  assert.equal(output.endCalls, 1);
}

test("a DataType change mid-run forwards nothing of the run: MalformedEvent", async (t) => {
  await expectRunRejected(t, (s) => {
    s.write(text("x", "PARTIAL"));
    s.write(binary([1], "COMPLETE"));
  }, "MalformedEvent", 1008);
});

test("input ending mid-run forwards nothing of the run: MalformedEvent", async (t) => {
  await expectRunRejected(t, (s) => {
    s.write(binary([1], "PARTIAL"));
    s.write(binary([2], "PARTIAL"));
    s.endInput();
  }, "MalformedEvent", 1008);
});

test("invalid UTF-8 in a reassembled UTF8 run forwards nothing: MalformedEvent", async (t) => {
  await expectRunRejected(t, (s) => {
    s.write(text("valid start", "PARTIAL"));
    s.write({ Bytes: Buffer.from([0xc3]), DataType: "UTF8", CompletionState: "PARTIAL" });
    s.write(text("x", "COMPLETE"));
  }, "MalformedEvent", 1008);
});

test("invalid UTF-8 in a whole UTF8 part: MalformedEvent", async (t) => {
  await expectRunRejected(t, (s) => s.write({ Bytes: Buffer.from([0xff]), DataType: "UTF8" }), "MalformedEvent", 1008);
});

test("a run over maxPayloadBytes forwards nothing: PayloadTooLarge", async (t) => {
  await expectRunRejected(t, (s) => {
    s.write(binary(Buffer.alloc(600), "PARTIAL"));
    s.write(binary(Buffer.alloc(600), "PARTIAL"));
  }, "PayloadTooLarge", 1009, { maxPayloadBytes: 1024 });
});

test("parts written after the session failed are dropped", async (t) => {
  const { output, session, conn } = await setup(t);
  session.write({ Bytes: Buffer.from([0xff]), DataType: "UTF8" });
  assert.equal(session.write(text("dropped")), true);
  await output.ended();
  await within(conn.closed, "container close");
  assert.equal(conn.messages.length, 0);
});

test("a container message over the limit ends the session with StreamBroken after what came before", async (t) => {
  const { output, conn } = await setup(t, { maxPayloadBytes: 1024 });
  await conn.send("fits");
  await conn.send(Buffer.alloc(2048));
  const error = await output.ended();
  assert.equal(error?.kind, "ModelStreamError");
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "StreamBroken");
  assert.match(error!.Message, /1024-byte limit/);
  assert.deepEqual(output.texts(), ["fits"]);
  assert.equal((await within(conn.closed, "container close")).code, 1009);
});

test("with maxModelMessageBytes above the part limit, a big message comes back as PARTIAL…COMPLETE parts", async (t) => {
  const { output, conn } = await setup(t, { maxPayloadBytes: 10, maxModelMessageBytes: 1000 });
  const message = "abcdefghi€jk€€"; // a cut at byte 10 would split the first €
  await conn.send(message);
  await conn.send(Buffer.from([...Array(25).keys()]));
  await conn.send("short");
  const parts: PayloadPart[] = await output.received(7);
  const states = parts.map((p) => [p.DataType, p.CompletionState]);
  const textParts = parts.slice(0, states.findIndex(([, c]) => c === "COMPLETE") + 1);
  assert.deepEqual(textParts.map((p) => [p.CompletionState, p.Bytes.byteLength]), [
    ["PARTIAL", 9],
    ["PARTIAL", 8],
    ["COMPLETE", 3],
  ]);
  for (const p of textParts) {
    assert.equal(p.DataType, "UTF8");
    assert.ok(p.Bytes.byteLength <= 10);
    assert.equal(Buffer.from(Buffer.from(p.Bytes).toString("utf8")).byteLength, p.Bytes.byteLength, "each text part is valid UTF-8 alone");
  }
  assert.equal(Buffer.concat(textParts.map((p) => p.Bytes)).toString(), message);
  const binParts = parts.slice(textParts.length, textParts.length + 3);
  assert.deepEqual(binParts.map((p) => [p.DataType, p.CompletionState, p.Bytes.byteLength]), [
    ["BINARY", "PARTIAL", 10],
    ["BINARY", "PARTIAL", 10],
    ["BINARY", "COMPLETE", 5],
  ]);
  assert.deepEqual(Buffer.concat(binParts.map((p) => p.Bytes)), Buffer.from([...Array(25).keys()]));
});

test("invalid UTF-8 in a container text message is StreamBroken naming the protocol breach, after what came before", async (t) => {
  const { output, conn } = await setup(t);
  await conn.send("fine");
  conn.ws.send(Buffer.from([0x68, 0xff]), { binary: false });
  const error = await output.ended();
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "StreamBroken");
  assert.match(error!.Message, /WebSocket protocol/);
  assert.deepEqual(output.texts(), ["fine"]);
  assert.equal((await within(conn.closed, "container close")).code, 1007);
});

test("a container that speaks first loses nothing, and nothing reaches the output before openSession resolved", async (t) => {
  const container = await startContainer({ onConnection: (c) => c.ws.send("hello first") });
  t.after(() => container.close());
  let resolved = false;
  let earlyParts = 0;
  const output = new RecordingOutput();
  const part = output.part.bind(output);
  output.part = (p) => {
    if (!resolved) earlyParts++;
    return part(p);
  };
  const session = await openSession({ url: container.url }, output);
  resolved = true;
  t.after(async () => {
    session.cancel();
    await within(session.closed, "session closed");
  });
  await output.received(1);
  assert.deepEqual(output.texts(), ["hello first"]);
  assert.equal(earlyParts, 0);
});
