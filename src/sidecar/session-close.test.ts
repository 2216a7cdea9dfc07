// How sessions end, against a real container: every ending reaches output.end exactly once,
// after everything the container sent before it, and leaves no timer behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { StreamError } from "../protocol/events.js";
import { openSession, type SidecarSession } from "./index.js";
import { liveTimers, RecordingOutput, startContainer, text, within, type ContainerConnection } from "./fake-container.fixture.js";
import type { SidecarOptions } from "./options.js";

async function setup(t: import("node:test").TestContext, options: Partial<SidecarOptions> = {}, onConnection?: (c: ContainerConnection) => void) {
  const container = await startContainer({ onConnection });
  const timersBefore = liveTimers();
  const output = new RecordingOutput();
  const session: SidecarSession = await openSession({ url: container.url, closeGraceMs: 60_000, ...options }, output);
  const conn = await container.nextConnection();
  t.after(async () => {
    session.cancel();
    await within(session.closed, "session closed");
    await container.close();
  });
  /** Waits for the whole session to be over and checks nothing of it lingers. */
  const finished = async () => {
    const summary = await within(session.closed, "session closed");
    assert.equal(output.endCalls, 1);
    assert.equal(output.partsAfterEnd, 0);
    // The container's side of the close (its own close timer) is not the session's to count.
    await within(conn.closed, "the container to see the close");
    await new Promise((r) => setImmediate(r));
    assert.equal(liveTimers(), timersBefore, "no timer of the session is left");
    return summary;
  };
  return { container, output, session, conn, finished };
}

test("after endInput the sidecar sends nothing, and what the container still sends arrives before a clean end", async (t) => {
  const { output, session, conn, finished } = await setup(t, {}, (c) =>
    c.ws.on("message", (data: Buffer) => {
      if (data.toString() !== '{"type":"CloseStream"}') return;
      // Still owed after CloseStream: a final transcript, metadata, then the close.
      c.ws.send("final 1");
      c.ws.send("final 2");
      c.ws.send("metadata", () => c.ws.close(1000));
    }),
  );
  session.write(text('{"type":"CloseStream"}'));
  session.endInput();
  assert.equal(await output.ended(), undefined);
  assert.deepEqual(output.texts(), ["final 1", "final 2", "metadata"]);
  const summary = await finished();
  assert.equal(summary.endedBy, "model");
  assert.equal(summary.closeCode, 1000);
  // The container closed first: it never saw a Close (or anything else) from us.
  assert.deepEqual(conn.messages.map((m) => m.data.toString()), ['{"type":"CloseStream"}']);
});

test("a container that stays open after endInput is closed with 1000 after closeGraceMs, cleanly", async (t) => {
  const { output, session, conn, finished } = await setup(t, { closeGraceMs: 30 });
  session.write(text("x"));
  session.endInput();
  assert.equal(await output.ended(), undefined);
  const closed = await within(conn.closed, "container close");
  assert.equal(closed.code, 1000);
  const summary = await finished();
  assert.equal(summary.endedBy, "grace");
  assert.deepEqual(conn.messages.map((m) => m.data.toString()), ["x"]);
});

test("regression: the close grace counts the container's silence, so a model still sending after input ends is not cut off", async (t) => {
  const { output, session, finished } = await setup(t, { closeGraceMs: 500 }, (c) =>
    c.ws.on("message", () => {
      // Far longer in all than the grace, but never silent for long: a model working through a backlog.
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        if (n <= 40) c.ws.send(`result ${n}`);
        else {
          clearInterval(timer);
          c.ws.close(1000);
        }
      }, 20);
    }),
  );
  session.write(text("go"));
  session.endInput();
  assert.equal(await output.ended(), undefined);
  assert.deepEqual(output.texts(), Array.from({ length: 40 }, (_, i) => `result ${i + 1}`));
  assert.equal((await finished()).endedBy, "model");
});

test("a container closing 1001 is a clean end", async (t) => {
  const { output, conn, finished } = await setup(t);
  await conn.send("bye");
  conn.ws.close(1001, "shutting down");
  assert.equal(await output.ended(), undefined);
  assert.deepEqual(output.texts(), ["bye"]);
  await finished();
});

test("a container closing 1011 NET-0001 is ModelClosed with the code and reason, after its messages", async (t) => {
  const { output, conn, finished } = await setup(t);
  await conn.send("partial transcript");
  conn.ws.close(1011, "NET-0001");
  const error = await output.ended();
  assert.deepEqual(error, {
    kind: "ModelStreamError",
    ErrorCode: "ModelClosed",
    Message: "the model closed the WebSocket with code 1011: NET-0001",
  });
  assert.deepEqual(output.texts(), ["partial transcript"]);
  const summary = await finished();
  assert.equal(summary.closeCode, 1011);
  assert.equal(summary.closeReason, "NET-0001");
});

test("a container whose socket goes away without a close is StreamBroken, after the data it had sent", async (t) => {
  const { output, conn, finished } = await setup(t);
  await conn.send("one");
  await conn.send(Buffer.from([2]));
  await conn.send("three");
  conn.ws.terminate(); // the socket is destroyed: no close frame, as when the process dies
  const error = await output.ended();
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "StreamBroken");
  assert.deepEqual(output.texts(), ["one", "\x02", "three"]);
  assert.equal((await finished()).closeCode, 1006);
});

test("a connection reset mid-stream is StreamBroken", async (t) => {
  const { output, conn } = await setup(t);
  await conn.send("one");
  await output.received(1);
  (conn.ws as unknown as { _socket: import("node:net").Socket })._socket.resetAndDestroy();
  const error = await output.ended();
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "StreamBroken");
});

test("cancel closes the WebSocket at once: the container sees the close, output ends once without error", async (t) => {
  const { output, session, conn, finished } = await setup(t);
  session.write(text("hello"));
  await conn.received(1);
  session.cancel();
  assert.equal(output.endCalls, 1);
  assert.equal(output.endError, undefined);
  const closed = await within(conn.closed, "container close");
  assert.equal(closed.code, 1001);
  session.cancel();
  const summary = await finished();
  assert.equal(summary.endedBy, "cancel");
});

test("fail closes the container's side and ends with the error after the parts already received", async (t) => {
  const { output, session, conn, finished } = await setup(t);
  output.accepting = false;
  conn.ws.send("a");
  conn.ws.send("b");
  conn.ws.send("c");
  await output.received(1);
  const err: StreamError = { kind: "InternalStreamFailure", Message: "InvalidSignature" };
  const receivedBeforeFailure = session.stats.messagesFromModel;
  session.fail(err);
  // Messages parsed before the failure still go out first, once the runtime takes them.
  output.accept();
  session.resumeOutput();
  assert.deepEqual(await output.ended(), err);
  // Exactly what the sidecar had received when it failed, in order: nothing lost, nothing after.
  assert.deepEqual(output.texts(), ["a", "b", "c"].slice(0, receivedBeforeFailure));
  assert.equal(output.partsWhilePaused, 0);
  assert.equal((await within(conn.closed, "container close")).code, 1008);
  const summary = await finished();
  assert.deepEqual(summary.error, err);
});

test("after a clean end is decided, a later fail does not replace it", async (t) => {
  const { output, session, conn, finished } = await setup(t);
  conn.ws.close(1000);
  await within(session.closed, "session closed");
  session.fail({ kind: "InternalStreamFailure", Message: "InvalidSignature" });
  assert.equal(output.endError, undefined);
  assert.equal(session.write(text("late")), true);
  session.endInput();
  await finished();
});

test("a drain deadline ends a session still running with DrainDeadlineExceeded", async (t) => {
  const { output, session, conn, finished } = await setup(t);
  session.setDrainDeadline(20);
  const error = await output.ended();
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "DrainDeadlineExceeded");
  assert.equal((await within(conn.closed, "container close")).code, 1001);
  assert.equal((await finished()).endedBy, "drain");
});

test("write after endInput is a caller bug and throws", async (t) => {
  const { session } = await setup(t);
  session.endInput();
  assert.throws(() => session.write(text("x")), /after endInput/);
});

test("idleTimeoutMs ends a session with no message either way with InternalStreamFailure IdleTimeout", async (t) => {
  const { output, session, conn, finished } = await setup(t, { idleTimeoutMs: 30 });
  session.write(text("one"));
  await conn.received(1);
  assert.deepEqual(await output.ended(), { kind: "InternalStreamFailure", Message: "IdleTimeout" });
  assert.equal((await within(conn.closed, "container close")).code, 1001);
  assert.equal((await finished()).endedBy, "idle");
});

test("a runtime callback that throws ends that session only, with the failure kept for the operator", async (t) => {
  const container = await startContainer();
  t.after(() => container.close());
  const ends: unknown[] = [];
  const session = await openSession(
    { url: container.url },
    {
      part: () => {
        throw new Error("stream already destroyed");
      },
      end: (error) => ends.push(error),
    },
  );
  const conn = await container.nextConnection();
  await conn.send("boom");
  const summary = await within(session.closed, "session closed");
  assert.equal(summary.endedBy, "output");
  assert.match(summary.detail ?? "", /output\.part\(\) threw: stream already destroyed/);
  assert.deepEqual(ends, [{ kind: "InternalStreamFailure", Message: "InternalError" }]);
  assert.equal((await within(conn.closed, "container close")).code, 1011);
});

test("cancel while an error end waits behind a paused output ends once, with that error, at once", async (t) => {
  const { output, session, conn, finished } = await setup(t);
  output.accepting = false;
  conn.ws.send("a");
  conn.ws.send("b");
  await output.received(1);
  const err: StreamError = { kind: "InternalStreamFailure", Message: "InvalidSignature" };
  session.fail(err);
  assert.equal(output.endCalls, 0, "the end waits behind the paused output");
  session.cancel();
  assert.equal(output.endCalls, 1);
  assert.deepEqual(output.endError, err);
  assert.deepEqual(output.texts(), ["a"]);
  await finished();
});
