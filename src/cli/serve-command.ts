// `sluice serve`: resolve the configuration, start the server, print the URL first (tests and
// scripts read it), then what a person needs to use it; SIGTERM/SIGINT shut down cleanly and
// SIGHUP re-reads the credentials file.
import { pino } from "pino";
import { resolveConfig } from "../server/config.js";
import { startServer } from "../server/app.js";

export async function runServe(flags: Record<string, string | boolean | undefined>): Promise<void> {
  const config = resolveConfig(flags);
  // Logs are JSON lines on stderr, so stdout carries only what a person or a script reads.
  const log = pino({ level: config.logLevel, base: { service: "sluice" } }, pino.destination({ fd: 2, sync: false }));
  const server = await startServer(config, { log, env: process.env });
  const out = (line = "") => process.stdout.write(line + "\n");
  out(server.url);
  out();
  out(`Sluice is serving SageMaker's control plane and runtime at ${server.url}`);
  if (config.auth === "none") {
    out("WARNING: --auth none: requests are NOT verified. Anyone who can reach this port can deploy and invoke models.");
  } else {
    const keys = server.credentials;
    if (keys.generated) {
      out(`Generated a key pair (shown only this once; it is saved in ${keys.file}):`);
      out(`  aws_access_key_id     = ${keys.generated.accessKeyId}`);
      out(`  aws_secret_access_key = ${keys.generated.secretAccessKey}`);
    }
    out(`Requests must be signed (SigV4, service sagemaker) with one of: ${keys.accessKeyIds.join(", ")}`);
    out(`Credentials file: ${keys.file}`);
  }
  const where = `--endpoint-url ${server.url} --data-dir ${config.dataDir}`;
  if (server.examples.length > 0) {
    out(`Example endpoints: ${server.examples.join(", ")} (starting; \`npx sluice endpoints ${where}\` shows their status)`);
    out();
    out("Try:");
    if (server.examples.includes("echo")) out(`  node dist/examples/send-words.js ${where}`);
    if (server.examples.includes("transcribe")) {
      out(`  flite -t "the quick brown fox jumped over the lazy dog" -o speech.wav`);
      out(`  node dist/examples/transcribe-file.js ${where} speech.wav`);
    }
  } else {
    out("Deploy a model:");
    out(`  npx sluice deploy my-echo --image sluice/echo ${where}`);
  }
  out();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    const n = server.reloadCredentials();
    log.info({ keys: n }, "credentials reloaded");
  });
}
