// Issue 4 scope 2: an instance that keeps crashing is replaced with backoff, and the endpoint
// says so (VariantStatus, CurrentInstanceCount, /readyz, /metrics) instead of looping silently,
// while staying InService; the runtime answers 503 meanwhile, and the endpoint serves again once
// the crashes stop. The other endpoint is untouched throughout.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DescribeEndpointCommand, type SageMakerClient } from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import { killGroups, listInstances, runtime, sagemaker, writeLocalModel } from "./helpers/control.js";
import { deployAt } from "./helpers/deploy.js";
import { CRASHES_ON_FILE_MODEL, openSession, sample, scrape } from "./helpers/fault-harness.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

describe("a crash loop", () => {
  let sluice: SluiceProcess;
  let sm: SageMakerClient;
  let scratch: string;
  const pids = new Set<number>();

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-crashloop-"));
    sluice = await startSluice({ args: ["--probe-interval", "300ms"] });
    sm = sagemaker(sluice);
    const image = writeLocalModel(scratch, "flaky", CRASHES_ON_FILE_MODEL, {
      labels: { "com.amazonaws.sagemaker.capabilities.bidirectional-streaming": "true" },
    });
    await Promise.all([
      deployAt(sluice.url, "flaky", { image, environment: { CRASH_FILE: join(scratch, "crash") } }),
      deployAt(sluice.url, "steady"),
    ]);
  });
  after(async () => {
    sm?.destroy();
    await sluice?.cleanup();
    killGroups(pids);
    rmSync(scratch, { recursive: true, force: true });
  });

  it("is reported while the endpoint stays InService, and clears when the crashes stop", async () => {
    const readyz = async () => {
      const res = await fetch(new URL("/readyz", sluice.url));
      return { status: res.status, body: (await res.json()) as { ready: boolean; detail: unknown } };
    };
    assert.equal((await readyz()).status, 200);
    for (const r of await listInstances(sluice)) pids.add(r.Pid!);
    const steady = await openSession({ url: sluice.url, endpointName: "steady" });
    assert.equal(steady.status, 200);

    writeFileSync(join(scratch, "crash"), "");
    const looping = await waitFor("the crash loop to be reported", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "flaky" }));
      assert.equal(d.EndpointStatus, "InService", "InService throughout");
      const v = d.ProductionVariants![0]!;
      const restarts = sample(await scrape(sluice.url), "sluice_instance_restarts_total", { endpoint: "flaky" });
      const message = v.VariantStatus?.[0]?.StatusMessage ?? "";
      // The instance's last log lines join the message once read: wait for them too.
      return restarts >= 2 && message.includes("failures in a row") && message.includes("crashes-on-file: FATAL") ? d : undefined;
    });
    const variant = looping.ProductionVariants![0]!;
    assert.equal(variant.CurrentInstanceCount, 0);
    assert.equal(variant.DesiredInstanceCount, 1);
    assert.equal(variant.VariantStatus?.[0]?.Status, "Updating");
    assert.match(
      variant.VariantStatus![0]!.StatusMessage!,
      /^Replacing instances, 0 of 1 healthy \((\d+) failures in a row, retrying with backoff\): [Ii]nstance flaky-AllTraffic-\w+ (of variant AllTraffic )?exited \(code 3\)/,
    );
    assert.match(variant.VariantStatus![0]!.StatusMessage!, /crashes-on-file: FATAL/, "the instance's own last words");
    // Not ready, and says which endpoint waits; the runtime answers 503 rather than hanging.
    const notReady = await readyz();
    assert.equal(notReady.status, 503);
    assert.deepEqual(notReady.body.detail, { waitingForInstances: ["flaky"] });
    const refused = await openSession({ url: sluice.url, endpointName: "flaky" });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["x-amzn-errortype"], "ServiceUnavailableError");
    await steady.roundTrip("the other endpoint is untouched");

    unlinkSync(join(scratch, "crash"));
    const recovered = await waitFor("a healthy instance again", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "flaky" }));
      const v = d.ProductionVariants![0]!;
      return d.EndpointStatus === "InService" && v.CurrentInstanceCount === 1 && v.VariantStatus === undefined ? d : undefined;
    });
    assert.equal(recovered.EndpointStatus, "InService");
    const [row] = await listInstances(sluice, "flaky");
    pids.add(row!.Pid!);
    assert.ok(row!.Restarts >= 2, `restarts ${row!.Restarts}`);
    assert.equal((await readyz()).status, 200);
    // This model has no WebSocket; InvokeEndpoint shows the runtime reaches it again.
    const rt = runtime(sluice);
    const out = await rt.send(new InvokeEndpointCommand({ EndpointName: "flaky", Body: new TextEncoder().encode("{}") }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    rt.destroy();
    await steady.finish();
    assert.equal(steady.error, undefined);
  });
});
