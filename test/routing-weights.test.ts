// Issue 4 "What it must show", first bullet, end to end: with `--routing-seed`, 400 bidi sessions
// at weights 1:3 split 100±20 / 300±20, a weight-0 variant gets exactly none, the target-variant
// header overrides the weights (weight 0 included), the same seed routes the same sequence the
// same way in another Sluice, and /metrics counts exactly the sessions the test opened.
import assert from "node:assert/strict";
import type * as http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { deployAt } from "./helpers/deploy.js";
import { connect, openSession, sample, scrape } from "./helpers/fault-harness.js";
import { startSluice, type SluiceProcess } from "./helpers/sluice.js";

const VARIANTS = [
  { name: "one", weight: 1 },
  { name: "three", weight: 3 },
  { name: "zero", weight: 0 },
];

/** Opens a session, reads the variant it was routed to, and cancels it. */
async function routeOnce(sluice: SluiceProcess, connection: http2.ClientHttp2Session, target?: string): Promise<string> {
  const s = await openSession({
    url: sluice.url,
    endpointName: "split",
    connection,
    headers: target === undefined ? undefined : { "x-amzn-sagemaker-target-variant": target },
  });
  assert.equal(s.status, 200);
  const variant = String(s.headers["x-amzn-invoked-production-variant"]);
  await s.finish();
  assert.equal(s.error, undefined);
  return variant;
}

describe("seeded weighted routing", () => {
  let a: SluiceProcess;
  let b: SluiceProcess;

  before(async () => {
    [a, b] = await Promise.all([startSluice({ args: ["--routing-seed", "20251"] }), startSluice({ env: { SLUICE_ROUTING_SEED: "20251" } })]);
    await Promise.all([a, b].map((s) => deployAt(s.url, "split", { variants: VARIANTS })));
  });
  after(async () => {
    await a?.cleanup();
    await b?.cleanup();
  });

  it("400 sessions at 1:3 split 100±20 / 300±20, weight 0 gets none; the same seed gives the same sequence", async () => {
    const sequences: string[][] = [];
    for (const sluice of [a, b]) {
      const connection = connect(sluice.url);
      const seq: string[] = [];
      try {
        for (let i = 0; i < 400; i++) seq.push(await routeOnce(sluice, connection));
      } finally {
        connection.close();
      }
      sequences.push(seq);
    }
    const [first, second] = sequences as [string[], string[]];
    const count = (name: string) => first.filter((v) => v === name).length;
    assert.ok(Math.abs(count("one") - 100) <= 20, `one: ${count("one")}`);
    assert.ok(Math.abs(count("three") - 300) <= 20, `three: ${count("three")}`);
    assert.equal(count("zero"), 0);
    assert.equal(count("one") + count("three"), 400);
    // --routing-seed on one, SLUICE_ROUTING_SEED on the other: the same draws, session by session.
    assert.deepEqual(second, first);

    const metrics = await scrape(a.url);
    for (const name of ["one", "three"]) {
      assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint: "split", variant: name }), count(name), `started ${name}`);
    }
    assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint: "split", variant: "zero" }), 0);
    assert.equal(sample(metrics, "sluice_sessions_active", { endpoint: "split" }), 0);
    assert.equal(sample(metrics, "sluice_session_errors_total", { endpoint: "split" }), 0);
  });

  it("the target-variant header overrides weights, weight 0 included", async () => {
    const connection = connect(a.url);
    try {
      for (const target of ["zero", "one", "zero", "three", "zero"]) {
        for (let i = 0; i < 4; i++) assert.equal(await routeOnce(a, connection, target), target);
      }
      const unknown = await openSession({ url: a.url, endpointName: "split", connection, headers: { "x-amzn-sagemaker-target-variant": "nope" } });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.headers["x-amzn-errortype"], "InputValidationError");
    } finally {
      connection.close();
    }
    const metrics = await scrape(a.url);
    assert.equal(sample(metrics, "sluice_sessions_started_total", { endpoint: "split", variant: "zero" }), 12);
  });
});
