import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { groupListensOn } from "./port-listener.js";

describe("groupListensOn", () => {
  it("tells the group's own listening socket from someone else's on another port", { timeout: 20_000 }, async () => {
    // A detached leader whose child (same group) holds the listening socket.
    const script = `
      const { spawn } = require("node:child_process");
      const c = spawn(process.execPath, ["-e", "require('node:net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ["ignore", "inherit", "inherit"] });
      setInterval(() => {}, 1e9);`;
    const leader = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"], detached: true });
    const other = createServer();
    try {
      const [line] = (await once(createInterface({ input: leader.stdout! }), "line")) as [string];
      const port = Number(line);
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
      const otherPort = (other.address() as { port: number }).port;
      assert.equal(await groupListensOn(leader.pid as number, port), true);
      assert.equal(await groupListensOn(leader.pid as number, otherPort), false);
    } finally {
      process.kill(-(leader.pid as number), "SIGKILL");
      other.close();
    }
  });
});
