// The system under test for one benchmark run: Sluice (with the echo instance it starts), nginx in
// front of that same instance, and the instance itself for the direct path — all pinned to the
// system core, all on 127.0.0.1, all stopped at the end.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { startEcho } from "./echo-instance.js";
import { nginxConnectionsFor, startNginx, type Nginx } from "./nginx.js";
import { openFileLimit } from "./proc.js";
import { tempDir } from "./processes.js";
import { startSluice, type SluiceServer } from "./sluice.js";
import type { PathName, Target, Watched } from "./targets.js";

export interface SystemOptions {
  paths: readonly PathName[];
  /** Most sessions any scenario holds at once. */
  maxSessions: number;
  systemCore: number | undefined;
  sessionsPerConnection: number;
  /** Extra node flags for Sluice (profiling). */
  sluiceNodeFlags?: string[];
  echoCore?: number;
  log: (line: string) => void;
}

export interface System {
  readonly targets: Partial<Record<PathName, Target>>;
  /** Paths that were asked for but could not be started, with the reason. */
  readonly unavailable: Partial<Record<PathName, string>>;
  /** What each path's job samples: the proxy in the middle and the echo instance behind it. */
  watched(path: PathName): Watched;
  readonly echo: { port: number; pid: number; startedBy: "sluice" | "harness" };
  readonly dir: string;
  /** RLIMIT_NOFILE each process of the run gets. */
  readonly nofile: number;
  stop(): Promise<void>;
}

/** Descriptors the busiest process needs: Sluice and nginx hold two per session (client side and
 * instance side), plus listeners, logs, the database and headroom (nginx's is larger). */
export function descriptorsNeeded(maxSessions: number): number {
  return Math.max(2 * maxSessions + 1024, nginxConnectionsFor(maxSessions).rlimitNofile);
}

/** Refuses a session count the open-file limit cannot hold, saying how to raise it. */
export function checkDescriptorLimit(maxSessions: number): number {
  const need = descriptorsNeeded(maxSessions);
  const { soft, hard } = openFileLimit();
  const isRoot = process.getuid?.() === 0;
  // prlimit raises each child's soft limit up to the hard limit; root may raise the hard limit too.
  if (need > hard && !isRoot) {
    throw new Error(
      `${maxSessions} sessions need ${need} open files per process, but the hard limit is ${hard} (soft ${soft}). ` +
        `Raise it (e.g. \`ulimit -Hn ${need}\` as root, or nofile in /etc/security/limits.conf) or ask for fewer sessions.`,
    );
  }
  // Every WebSocket session on the direct and nginx paths is one TCP connection from one ephemeral
  // port to one destination; past the port range, connect() fails whatever the fd limit.
  const ports = ephemeralPorts();
  if (maxSessions > ports - 1000) {
    throw new Error(
      `${maxSessions} sessions need as many ephemeral ports to one address, but net.ipv4.ip_local_port_range holds ${ports}. ` +
        `Widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65000") or ask for fewer sessions.`,
    );
  }
  return Math.max(need, soft);
}

function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return hi! - lo! + 1;
  } catch {
    return 28_232; // Linux's default range, 32768–60999
  }
}

export async function startSystem(options: SystemOptions): Promise<System> {
  const nofile = checkDescriptorLimit(options.maxSessions);
  const tmp = tempDir("sluice-bench");
  const stops: (() => Promise<void>)[] = [];
  const unavailable: Partial<Record<PathName, string>> = {};
  const targets: Partial<Record<PathName, Target>> = {};
  let sluice: SluiceServer | undefined;
  let nginx: Nginx | undefined;
  let echo: System["echo"];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => options.log(`cleanup: ${String(err)}`));
    tmp.cleanup();
  };
  try {
    if (options.paths.includes("sluice")) {
      try {
        sluice = await startSluice({
          core: options.systemCore,
          nofile,
          maxSessions: options.maxSessions,
          dir: tmp.path,
          nodeFlags: options.sluiceNodeFlags,
        });
        stops.push(() => sluice!.stop());
        targets.sluice = {
          path: "sluice",
          kind: "sluice",
          url: sluice.url,
          endpointName: sluice.endpointName,
          region: sluice.region,
          credentials: sluice.credentials,
          sessionsPerConnection: options.sessionsPerConnection,
        };
      } catch (err) {
        unavailable.sluice = (err as Error).message;
        options.log(`sluice path not measured: ${(err as Error).message}`);
      }
    }
    if (sluice) {
      echo = { ...sluice.instance, startedBy: "sluice" };
    } else {
      const own = await startEcho({ core: options.systemCore, nofile, logDir: tmp.path });
      stops.push(() => own.stop());
      echo = { port: own.port, pid: own.pid, startedBy: "harness" };
    }
    if (options.echoCore !== undefined) {
      execFileSync("taskset", ["-a", "-p", "-c", String(options.echoCore), String(echo.pid)], { stdio: "ignore" });
      options.log(`echo instance moved to core ${options.echoCore}`);
    }
    if (options.paths.includes("direct")) targets.direct = { path: "direct", kind: "websocket", url: `ws://127.0.0.1:${echo.port}` };
    if (options.paths.includes("nginx")) {
      try {
        nginx = await startNginx({ upstreamPort: echo.port, maxSessions: options.maxSessions, core: options.systemCore, dir: tmp.path });
        stops.push(() => nginx!.stop());
        targets.nginx = { path: "nginx", kind: "websocket", url: nginx.url };
      } catch (err) {
        unavailable.nginx = (err as Error).message;
        options.log(`nginx path not measured: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    targets,
    unavailable,
    echo,
    dir: tmp.path,
    nofile,
    watched(path) {
      const w: Watched = { echo: [echo.pid] };
      if (path === "sluice" && sluice) w.sluice = [sluice.pid];
      if (path === "nginx" && nginx) w.nginx = [nginx.workerPid, nginx.masterPid];
      return w;
    },
    stop,
  };
}
