// `node dist/bench/profile-summary.js FILE.cpuprofile`: the same summary `--profile` prints, for
// a profile taken any other way (e.g. `node --cpu-prof dist/src/cli/main.js serve`).

import { readFileSync } from "node:fs";
import { summarizeProfile } from "./harness/profile.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]");
  process.exit(2);
}
process.stdout.write(summarizeProfile(JSON.parse(readFileSync(file, "utf8")), file, Number(process.argv[3] ?? 15)));
