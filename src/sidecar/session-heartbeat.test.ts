// The heartbeat against a real container, with a short interval.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openSession } from "./index.js";
import { RecordingOutput, startContainer, within } from "./fake-container.fixture.js";

test("a container that never answers pings ends the session with ModelInvocationTimeExceeded", async (t) => {
  const container = await startContainer({ autoPong: false });
  t.after(() => container.close());
  const output = new RecordingOutput();
  const session = await openSession({ url: container.url, pingIntervalMs: 15, maxMissedPongs: 3 }, output);
  const conn = await container.nextConnection();
  await conn.send("still here");
  const error = await output.ended();
  assert.equal(error?.kind, "ModelStreamError");
  assert.equal(error?.kind === "ModelStreamError" && error.ErrorCode, "ModelInvocationTimeExceeded");
  assert.match(error!.Message, /3 pings/);
  assert.deepEqual(output.texts(), ["still here"]);
  assert.equal((await within(conn.closed, "container close")).code, 1001);
  assert.ok(conn.pings >= 3, `the container saw ${conn.pings} pings`);
  const summary = await within(session.closed, "session closed");
  assert.equal(summary.endedBy, "heartbeat");
  assert.equal(summary.stats.missedPongs, 3);
  assert.equal(summary.stats.pongsReceived, 0);
});

test("a container that answers pings keeps the session alive well past maxMissedPongs intervals", async (t) => {
  const container = await startContainer();
  t.after(() => container.close());
  const output = new RecordingOutput();
  const session = await openSession({ url: container.url, pingIntervalMs: 5, maxMissedPongs: 2 }, output);
  const conn = await container.nextConnection();
  await conn.when(() => conn.pings >= 12, "12 pings at the container");
  assert.equal(output.endCalls, 0);
  assert.ok(session.stats.pongsReceived >= 10);
  conn.ws.close(1000);
  assert.equal(await output.ended(), undefined);
  await within(session.closed, "session closed");
});
