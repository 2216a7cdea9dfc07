// Backpressure end to end, against a real container: a slow reader stops the sidecar reading
// the container (the container's send buffer grows, not ours), a slow container makes write()
// say stop (our send buffer stays near the mark). Memory per session stays bounded either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { openSession, type SidecarSession } from "./index.js";
import { binary, RecordingOutput, startContainer, within } from "./fake-container.fixture.js";

const KIB = 1024;
const CHUNK = 64 * KIB;

function numbered(i: number): Buffer {
  const b = Buffer.alloc(CHUNK);
  b.writeUInt32BE(i, 0);
  return b;
}

/** Waits until `read()` has not changed for `turns` consecutive polls: the flow has stopped. */
async function settled(read: () => number, what: string, turns = 25): Promise<number> {
  return within(
    (async () => {
      let last = read();
      let same = 0;
      while (same < turns) {
        await new Promise((r) => setTimeout(r, 2));
        const now = read();
        same = now === last ? same + 1 : 0;
        last = now;
      }
      return last;
    })(),
    what,
  );
}

/**
 * Writes numbered parts as the runtime would (stopping at false, going on at 'drain') until the
 * container's side takes nothing more: the kernel's buffers are full too. Returns how many.
 */
async function fillUntilStuck(session: SidecarSession, highWaterMarkBytes: number): Promise<number> {
  let sent = 0;
  for (;;) {
    while (session.write(binary(numbered(sent++)))) {
      assert.ok(sent < 8192, "write() never said stop (512 MiB written)");
      if (sent % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(session.bufferedBytes() <= highWaterMarkBytes + 2 * CHUNK, `session holds ${session.bufferedBytes()} bytes`);
    const drained = once(session, "drain").then(() => "drained" as const);
    const stuck = settled(() => session.bufferedBytes(), "the send buffer to stop moving or drain").then(() => "stuck" as const);
    if ((await Promise.race([drained, stuck])) === "stuck" && session.bufferedBytes() > highWaterMarkBytes / 2) return sent;
    await drained.catch(() => {});
  }
}

test("a slow reader stops the sidecar reading the container; resuming lets everything through in order", async (t) => {
  const container = await startContainer();
  t.after(() => container.close());
  const output = new RecordingOutput();
  output.accepting = false;
  const session = await openSession({ url: container.url, highWaterMarkBytes: 256 * KIB }, output);
  t.after(async () => {
    session.cancel();
    await within(session.closed, "session closed");
  });
  const conn = await container.nextConnection();
  const total = 512; // 32 MiB: more than loopback socket buffers take while nobody reads
  for (let i = 0; i < total; i++) conn.ws.send(numbered(i), { binary: true });

  await output.received(1);
  const stuckAtContainer = await settled(() => conn.ws.bufferedAmount, "the container's send buffer to stop moving");
  assert.ok(stuckAtContainer > 0, "the container holds what the sidecar does not read");
  // The sidecar parsed at most what one socket read held when it paused.
  assert.ok(session.stats.messagesFromModel <= 4, `sidecar read ${session.stats.messagesFromModel} messages while paused`);
  assert.ok(session.bufferedBytes() <= 4 * CHUNK, `sidecar holds ${session.bufferedBytes()} bytes while paused`);
  assert.equal(output.parts.length, 1);

  output.accept();
  session.resumeOutput();
  const parts = await output.received(total);
  assert.deepEqual(parts.map((p) => Buffer.from(p.Bytes).readUInt32BE(0)), Array.from({ length: total }, (_, i) => i));
  assert.equal(output.partsWhilePaused, 0);
});

test("a container that does not read makes write() return false with the buffer near the mark; 'drain' resumes", async (t) => {
  const highWaterMarkBytes = 256 * KIB;
  const container = await startContainer({ onConnection: (c) => c.ws.pause() });
  t.after(() => container.close());
  const output = new RecordingOutput();
  const session = await openSession({ url: container.url, highWaterMarkBytes }, output);
  t.after(async () => {
    session.cancel();
    await within(session.closed, "session closed");
  });
  const conn = await container.nextConnection();

  let sent = await fillUntilStuck(session, highWaterMarkBytes);
  assert.ok(session.bufferedBytes() > highWaterMarkBytes / 2);
  assert.ok(session.bufferedBytes() <= highWaterMarkBytes + 2 * CHUNK, `session holds ${session.bufferedBytes()} bytes`);

  const drained = once(session, "drain");
  conn.ws.resume();
  await within(drained, "'drain'");
  assert.ok(session.bufferedBytes() <= highWaterMarkBytes / 2);

  // The rest, honouring backpressure as the runtime does.
  const total = sent + 64;
  while (sent < total) {
    if (!session.write(binary(numbered(sent++)))) await within(once(session, "drain"), "'drain'");
  }
  const received = await conn.received(total);
  assert.deepEqual(received.map((m) => m.data.readUInt32BE(0)), Array.from({ length: total }, (_, i) => i));
});

test("cancel with a full send buffer cuts the socket instead of waiting behind it", async (t) => {
  const container = await startContainer({ onConnection: (c) => c.ws.pause() });
  t.after(() => container.close());
  const output = new RecordingOutput();
  const session = await openSession({ url: container.url, highWaterMarkBytes: 64 * KIB, closeTimeoutMs: 60_000 }, output);
  const conn = await container.nextConnection();
  await fillUntilStuck(session, 64 * KIB);
  session.cancel();
  // Closed on our side while the container still reads nothing (closeTimeoutMs is a minute).
  const summary = await within(session.closed, "session closed");
  assert.equal(summary.endedBy, "cancel");
  assert.equal(output.endCalls, 1);
  conn.ws.resume();
  const closed = await within(conn.closed, "container close");
  assert.equal(closed.code, 1006);
});

test("'drain' fires when the session ends while a writer waits for it", async (t) => {
  const container = await startContainer({ onConnection: (c) => c.ws.pause() });
  t.after(() => container.close());
  const output = new RecordingOutput();
  // The Close we send waits behind unsent data; closeTimeoutMs then cuts the socket, failing the
  // pending writes: only the end of the session can release the writer.
  const session = await openSession({ url: container.url, highWaterMarkBytes: 64 * KIB, closeTimeoutMs: 20 }, output);
  await container.nextConnection();
  await fillUntilStuck(session, 64 * KIB);
  // Writes past the mark, as a runtime that ignored false would, so a writer waits for 'drain'.
  session.write(binary(numbered(0)));
  const drained = once(session, "drain");
  session.fail({ kind: "InternalStreamFailure", Message: "InvalidSignature" });
  await within(drained, "'drain' after the session ended");
  assert.equal(session.write(binary([1])), true, "writes after the end are dropped without backpressure");
  const summary = await within(session.closed, "session closed");
  assert.equal(summary.closeCode, 1006);
});
