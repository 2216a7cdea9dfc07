// `npm run bench`: every scenario against direct, nginx and Sluice in one run, with one system
// under test started once. `npm run bench -- --quick` for CI; `--help` for the options.

import { density } from "./density.js";
import { main } from "./harness/main.js";
import { largePayloads } from "./large-payloads.js";
import { latency, latencyLight } from "./latency.js";
import { setup } from "./setup.js";
import { throughput } from "./throughput.js";

await main([latency, latencyLight, throughput, density, largePayloads, setup]);
