import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./migrations.js";
import { Store } from "./store.js";
import { tempDir } from "./test-support/harness.js";

const model = (name: string) => ({
  name,
  arn: `arn:aws:sagemaker:us-east-1:000000000000:model/${name.toLowerCase()}`,
  creationTime: 1_700_000_000.5,
  spec: { PrimaryContainer: { Image: "sluice/echo" } },
});

describe("store", () => {
  it("creates the schema at the latest version, in WAL mode with synchronous=FULL", (t) => {
    const dir = tempDir(t);
    const store = Store.open(dir);
    t.after(() => store.close());
    assert.equal(store.schemaVersion, Math.max(...MIGRATIONS.map((m) => m.version)));
    assert.equal(store.path, join(dir, "sluice.db"));
    // Checked through the store's own connection: these are per-connection settings.
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("synchronous", { simple: true }), 2);
  });

  it("keeps everything across close and reopen, and looks names up case-insensitively", (t) => {
    const dir = tempDir(t);
    const first = Store.open(dir);
    first.insertModel(model("Echo"));
    first.putTags(model("Echo").arn, [{ Key: "a", Value: "1" }]);
    first.close();
    const second = Store.open(dir);
    t.after(() => second.close());
    assert.deepEqual(second.getModel("ECHO"), model("Echo"));
    assert.deepEqual(second.listTags(model("Echo").arn), [{ Key: "a", Value: "1" }]);
    assert.throws(() => second.insertModel(model("echo")), /UNIQUE/);
  });

  it("applies only the migrations a database lacks, each once", (t) => {
    const dir = tempDir(t);
    const v1 = Store.open(dir, { migrations: MIGRATIONS.filter((m) => m.version === 1) });
    assert.equal(v1.schemaVersion, 1);
    v1.insertModel(model("kept"));
    v1.close();
    const latest = Store.open(dir);
    t.after(() => latest.close());
    assert.equal(latest.schemaVersion, 2);
    assert.equal(latest.getModel("kept")?.name, "kept");
    latest.insertInstance({
      instanceId: "i-1",
      endpointName: "ep",
      deploymentId: "d",
      variantName: "v",
      hostKind: "process",
      pid: 42,
      startTimeMs: 1,
      logFile: "/tmp/x.log",
    });
    assert.equal(latest.listInstanceRows()[0]?.pid, 42);
  });

  it("refuses a database from a newer Sluice", (t) => {
    const dir = tempDir(t);
    const db = new Database(join(dir, "sluice.db"));
    db.pragma("user_version = 99");
    db.close();
    assert.throws(() => Store.open(dir), /schema version 99, newer than this Sluice knows/);
  });

  it("refuses a data dir another store holds open", (t) => {
    const dir = tempDir(t);
    const store = Store.open(dir);
    t.after(() => store.close());
    assert.throws(() => Store.open(dir, { lockTimeoutMs: 50 }), /in use by another Sluice process/);
  });

  it("keeps an acknowledged write when the writer is killed with SIGKILL right after it", async (t) => {
    const dir = tempDir(t);
    const storeModule = fileURLToPath(new URL("./store.ts", import.meta.url));
    const script = join(dir, "writer.mts");
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(storeModule)};
       const store = Store.open(process.argv[2]);
       let i = 0;
       // Acknowledge each write only after insertModel returned, then keep writing until killed.
       for (;;) {
         store.insertModel({ name: "m" + i, arn: "arn:aws:sagemaker:us-east-1:000000000000:model/m" + i, creationTime: i, spec: {} });
         process.stdout.write("ack " + i + "\\n");
         i++;
         if (i % 50 === 0) await new Promise((r) => setImmediate(r));
       }`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, dir], { stdio: ["ignore", "pipe", "inherit"] });
    let acked = -1;
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const n = Number(line.split(" ")[1]);
        if (Number.isInteger(n)) acked = n;
        if (acked >= 20 && !child.killed) child.kill("SIGKILL");
      }
    });
    const [code, signal] = await once(child, "exit");
    assert.equal(signal, "SIGKILL", `writer exited with ${code}`);
    assert.ok(acked >= 20);
    const store = Store.open(dir);
    t.after(() => store.close());
    for (let i = 0; i <= acked; i++) assert.ok(store.getModel(`m${i}`), `acknowledged write m${i} lost`);
  });
});
