// Scenario 5, setup: new sessions one after another; the time from the request to the response
// headers — a WebSocket's 101, or Sluice's :status 200 (sent once its sidecar's WebSocket to the
// instance is open). Each direct or nginx session is a new TCP connection; each Sluice session a
// new client with its own HTTP/2 connection (as AWS's SDK opens one per stream), so all three
// include a connection handshake.

import { decodeHistogram, percentileMs } from "./harness/histogram.js";
import type { SetupResult } from "./harness/jobs.js";
import { isMain, main } from "./harness/main.js";
import type { Scenario } from "./harness/scenario.js";

type Params = { count: number; warmup: number; concurrency: number };

export const setup: Scenario<Params> = {
  name: "setup",
  title: "Session setup",
  defaults: {
    full: { count: 1000, warmup: 50, concurrency: 1 },
    quick: { count: 100, warmup: 10, concurrency: 1 },
  },
  columns: [
    { key: "p50", label: "p50 ms", digits: 3, better: "lower" },
    { key: "p99", label: "p99 ms", digits: 3, better: "lower" },
    { key: "addedP50", label: "+p50 ms", digits: 3, better: "lower", addedOver: "p50" },
    { key: "addedP99", label: "+p99 ms", digits: 3, better: "lower", addedOver: "p99" },
    { key: "mean", label: "mean ms", digits: 3, better: "lower" },
  ],
  describe: (p) =>
    `${p.count} new sessions (after ${p.warmup} unmeasured), ${p.concurrency} at a time, each closed before the next; ` +
    `request → response headers; + = over direct in the same run`,
  maxSessions: (p) => p.concurrency * 2,
  job: (path, p, ctx) => ({
    kind: "setup",
    target: ctx.system.targets[path]!,
    watch: ctx.system.watched(path),
    openConcurrency: 1,
    count: p.count,
    warmup: p.warmup,
    concurrency: p.concurrency,
  }),
  metrics: (result) => {
    const r = result as SetupResult;
    const h = decodeHistogram(r.histogram);
    return {
      metrics: {
        p50: percentileMs(h, 50),
        p99: percentileMs(h, 99),
        mean: h.mean / 1000,
        max: h.maxValue / 1000,
        count: r.count,
      },
    };
  },
  timeoutMs: (p) => 60_000 + p.count * 50,
};

if (isMain(import.meta.url)) await main([setup]);
