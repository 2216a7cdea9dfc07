#!/usr/bin/env node
// Entry point of the transcribe model process: `node dist/models/transcribe/main.js serve`.
// Loads the decoder pool first, then listens, so a session never waits for model loading and
// /ping answers only once the model can serve.
import { pino } from "pino";
import { DecoderPool } from "./decoder-pool.js";
import { createPocketSphinxRecogniser } from "./pocketsphinx-recogniser.js";
import { createTranscribeServer } from "./server.js";
import { settingsFromEnv } from "./settings.js";

async function serve(): Promise<void> {
  const settings = settingsFromEnv();
  const log = pino({ level: settings.logLevel, base: { model: "transcribe" } });
  const loadStart = performance.now();
  const pool = await DecoderPool.create(settings.poolSize, () =>
    createPocketSphinxRecogniser({ modelDir: settings.modelDir, redecodeFirstUtterance: settings.redecodeFirstUtterance }),);
  log.info({ poolSize: settings.poolSize, loadMs: Math.round(performance.now() - loadStart), modelDir: settings.modelDir }, "decoders loaded");
  const { server, shutdown } = createTranscribeServer({
    pool,
    session: settings.session,
    log,
    maxMessageBytes: settings.maxMessageBytes,
  });
  server.listen(settings.port, settings.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    // Same line as every model built on src/container prints, for whoever watches the log;
    // printed whatever the log level, since callers wait for it.
    log.child({}, { level: "info" }).info({ host: settings.host, port, pid: process.pid }, "model server listening");
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    shutdown(settings.shutdownGraceMs).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

const command = process.argv[2] ?? "serve";
if (command !== "serve") {
  process.stderr.write(`usage: main.js serve\n`);
  process.exit(2);
}
serve().catch((err: unknown) => {
  process.stderr.write(`transcribe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
