// Command-line options shared by run-all and every scenario script.

import { cpus } from "node:os";
import { ALL_PATHS, type PathName } from "./targets.js";

export interface RunOptions {
  quick: boolean;
  runs: number;
  paths: PathName[];
  /** Only these scenarios (run-all). */
  only: string[] | undefined;
  cores: { load: number | undefined; system: number | undefined };
  sessionsPerConnection: number;
  /** Per-scenario overrides, `--latency.sessions=2000`. */
  overrides: Record<string, number>;
  /** Write BENCHMARKS.md's generated section from this run. */
  updateDocs: boolean;
  /** Run Sluice under `node --cpu-prof` and write the profile to bench/results/profiles/. */
  profile: boolean;
  outDir: string | undefined;
  /** Re-pin the echo instance to this core (diagnostics: a profile of Sluice without the echo preempting it on its core). */
  echoCore: number | undefined;
}

export const USAGE = `usage: npm run bench -- [options]          (or node dist/bench/<scenario>.js [options])
  --quick                    small counts, one run each: under 90 s, for CI
  --runs N                   runs per path (default 3; quick 1); figures are medians with min–max
  --paths direct,nginx,sluice  which paths (default all three)
  --only latency,throughput,density,large-payloads,setup   which scenarios (run-all)
  --cores LOAD,SYSTEM        taskset cores (default 0,1; "none" disables pinning)
  --sessions-per-connection N  Sluice sessions sharing one HTTP/2 connection (default 1, as AWS's SDK)
  --<scenario>.<param>=N     e.g. --latency.sessions=2000 --density.sessions=8000 --latency.durationMs=30000
  --update-docs              rewrite the generated tables in BENCHMARKS.md from this run
  --profile                  run Sluice under node --cpu-prof; profiles go to bench/results/profiles/
  --echo-core N              move the echo instance to core N after start (diagnostics for profiles)
  --out DIR                  where results go (default bench/results, quick runs in bench/results/quick)`;

export function parseOptions(argv: string[]): RunOptions {
  const options: RunOptions = {
    quick: false,
    runs: 0,
    paths: [...ALL_PATHS],
    only: undefined,
    cores: { load: 0, system: 1 },
    sessionsPerConnection: 1,
    overrides: {},
    updateDocs: false,
    profile: false,
    outDir: undefined,
    echoCore: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    switch (flag) {
      case "--quick":
        options.quick = true;
        break;
      case "--runs":
        options.runs = positive(flag, value());
        break;
      case "--paths":
        options.paths = value().split(",").map((p) => {
          if (!(ALL_PATHS as readonly string[]).includes(p)) fail(`unknown path ${p} (direct, nginx, sluice)`);
          return p as PathName;
        });
        break;
      case "--only":
        options.only = value().split(",");
        break;
      case "--cores": {
        const v = value();
        if (v === "none") options.cores = { load: undefined, system: undefined };
        else {
          const [load, system] = v.split(",").map(Number);
          if (!Number.isInteger(load) || !Number.isInteger(system)) fail("--cores takes LOAD,SYSTEM, e.g. 0,1");
          options.cores = { load, system };
        }
        break;
      }
      case "--sessions-per-connection":
        options.sessionsPerConnection = positive(flag, value());
        break;
      case "--update-docs":
        options.updateDocs = true;
        break;
      case "--profile":
        options.profile = true;
        break;
      case "--echo-core":
        options.echoCore = Number(value());
        break;
      case "--out":
        options.outDir = value();
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (/^--[a-z-]+\.[a-zA-Z]+$/.test(flag)) options.overrides[flag.slice(2)] = Number(value());
        else fail(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (options.runs === 0) options.runs = options.quick ? 1 : 3;
  if (options.cores.load !== undefined && cpus().length < 2) {
    console.warn("fewer than two cores: the load generator and the system under test share one; pinning disabled");
    options.cores = { load: undefined, system: undefined };
  }
  return options;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`${flag} takes a whole number ≥ 1`);
  return n;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
