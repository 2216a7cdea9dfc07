// Driven by node:test's mock timers, so the counting is checked tick by tick without waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Heartbeat } from "./heartbeat.js";

function harness(t: import("node:test").TestContext, maxMissed = 3) {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const state = { pings: 0, timeouts: [] as number[], suspended: false };
  const hb = new Heartbeat({
    intervalMs: 100,
    maxMissed,
    ping: () => state.pings++,
    suspended: () => state.suspended,
    onTimeout: (missed) => state.timeouts.push(missed),
  });
  t.after(() => hb.stop());
  return { hb, state, tick: (n = 1) => t.mock.timers.tick(100 * n) };
}

test("maxMissed unanswered pings, each given a whole interval, end it; no ping after that", (t) => {
  const { hb, state, tick } = harness(t, 3);
  hb.start();
  tick(3);
  assert.equal(state.pings, 3);
  assert.deepEqual(state.timeouts, []);
  tick();
  assert.deepEqual(state.timeouts, [3]);
  tick(5);
  assert.equal(state.pings, 3);
  assert.deepEqual(state.timeouts, [3]);
});

test("a pong clears the count, so a container that answers late but answers lives on", (t) => {
  const { hb, state, tick } = harness(t, 3);
  hb.start();
  for (let i = 0; i < 10; i++) {
    tick(2); // one ping missed, the next answered
    hb.pong();
  }
  assert.deepEqual(state.timeouts, []);
  assert.equal(hb.missed, 0);
  assert.equal(hb.pingsSent, 20);
  assert.equal(hb.pongsReceived, 10);
});

test("while suspended (reading paused) it neither pings nor counts", (t) => {
  const { hb, state, tick } = harness(t, 2);
  hb.start();
  tick(); // ping 1, unanswered
  state.suspended = true;
  tick(50);
  assert.equal(state.pings, 1);
  assert.equal(hb.missed, 0);
  state.suspended = false;
  tick(); // missed 1, ping 2
  assert.deepEqual(state.timeouts, []);
  tick(); // missed 2
  assert.deepEqual(state.timeouts, [2]);
});

test("stop leaves no timer running", (t) => {
  const { hb, state, tick } = harness(t, 1);
  hb.start();
  hb.stop();
  tick(10);
  assert.equal(state.pings, 0);
  assert.deepEqual(state.timeouts, []);
});
