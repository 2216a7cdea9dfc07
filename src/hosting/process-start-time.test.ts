import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { isAlive, processStartTimeMs, readProcStat } from "./process-start-time.js";

describe("process start time", () => {
  it("is stable for a live process and undefined once it is gone", { timeout: 20_000 }, async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)"], { stdio: "ignore", detached: true });
    await once(child, "spawn");
    const pid = child.pid as number;
    const first = processStartTimeMs(pid);
    assert.equal(typeof first, "number");
    assert.equal(processStartTimeMs(pid), first);
    assert.equal(readProcStat(pid)?.pgrp, pid); // detached: leads its own group
    assert.equal(isAlive(pid), true);
    // This test process started before its child.
    assert.ok((processStartTimeMs(process.pid) as number) <= (first as number));
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.equal(isAlive(pid), false);
    assert.equal(processStartTimeMs(pid), undefined);
  });
});
