// The echo model run by the harness itself, for the direct and nginx paths when Sluice is not
// part of the run (or not yet available); with Sluice, both use the instance Sluice started.

import { join } from "node:path";
import { DIST, startProcess, waitForHttp, type ManagedProcess } from "./processes.js";
import { freePort } from "../../src/hosting/free-port.js";

export interface EchoInstance {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startEcho(options: { core: number | undefined; nofile: number; logDir: string }): Promise<EchoInstance> {
  const port = await freePort();
  const proc: ManagedProcess = startProcess({
    name: "echo",
    command: process.execPath,
    args: [join(DIST, "models/echo/main.js"), "serve"],
    core: options.core,
    nofile: options.nofile,
    env: { SAGEMAKER_BIND_TO_PORT: String(port), SLUICE_BIND_HOST: "127.0.0.1" },
    logDir: options.logDir,
  });
  await Promise.race([
    waitForHttp(`http://127.0.0.1:${port}/ping`),
    proc.exited.then((code) => {
      throw new Error(`the echo instance exited (code ${code}) before answering /ping; see ${proc.logFile}`);
    }),
  ]);
  return { port, pid: proc.pid, stop: () => proc.stop() };
}
