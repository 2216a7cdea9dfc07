// Sluice started inside the test process (the same `startServer` the CLI calls), for tests that
// must look at what it holds: open sessions, leased slots, buffered bytes, connections, memory.
// Model instances are still real processes; the network is still real (127.0.0.1).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { startServer, type StartedServer } from "../../src/server/app.js";
import { resolveConfig, SETTINGS } from "../../src/server/config.js";
import { FAST_SETTINGS, TEST_KEY } from "./sluice.js";

export interface InProcessSluice {
  server: StartedServer;
  url: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

/** `flags` are `sluice serve` flags as on the command line, e.g. `["--max-sessions", "2"]`. */
export async function startInProcess(flags: string[] = []): Promise<InProcessSluice> {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-inproc-"));
  const args = ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...FAST_SETTINGS, ...flags];
  const flagValues: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const setting = SETTINGS.find((s) => s.flag === args[i]);
    if (!setting) throw new Error(`unknown flag ${args[i]}`);
    flagValues[setting.key] = args[i + 1]!;
  }
  const config = resolveConfig(flagValues, {});
  const env = { SLUICE_ACCESS_KEY_ID: TEST_KEY.accessKeyId, SLUICE_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey };
  const log = pino({ level: process.env.SLUICE_TEST_LOG_LEVEL ?? "silent" });
  const server = await startServer(config, { log, env });
  return {
    server,
    url: server.url,
    dataDir,
    cleanup: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

