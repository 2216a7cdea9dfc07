import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { LiveStateReader } from "../control/index.js";
import type { InstanceExit } from "../hosting/host.js";
import { instanceExitLookup } from "./instance-exit-lookup.js";

/** Just the parts of the live state the lookup reads. */
function fakeLive() {
  const exits = new Map<string, InstanceExit>();
  const events = new EventEmitter();
  const live = {
    instanceExit: (id: string) => exits.get(id),
    onChange: (listener: (name: string) => void) => {
      events.on("change", listener);
      return () => events.off("change", listener);
    },
  } as unknown as LiveStateReader;
  return {
    live,
    exit: (id: string, exit: InstanceExit) => {
      exits.set(id, exit);
      events.emit("change", "ep");
    },
    listeners: () => events.listenerCount("change"),
  };
}

test("an exit already known is named at once: a signal, or an exit code", async () => {
  const f = fakeLive();
  f.exit("a", { code: null, signal: "SIGKILL" });
  f.exit("b", { code: 3, signal: null });
  const lookup = instanceExitLookup(f.live);
  assert.equal(await lookup.exitOf("a", 0), "signal SIGKILL");
  assert.equal(await lookup.exitOf("b", 0), "exit code 3");
});

test("an exit that becomes known while waiting is named; the listener is removed", async () => {
  const f = fakeLive();
  const pending = instanceExitLookup(f.live).exitOf("a", 60_000);
  f.exit("other", { code: 0, signal: null });
  assert.equal(f.listeners(), 1);
  f.exit("a", { code: null, signal: "SIGSEGV" });
  assert.equal(await pending, "signal SIGSEGV");
  assert.equal(f.listeners(), 0);
});

test("a process still running after the wait: undefined, and the listener is removed", async () => {
  const f = fakeLive();
  assert.equal(await instanceExitLookup(f.live).exitOf("a", 20), undefined);
  assert.equal(f.listeners(), 0);
});
