// Regression: `sluice serve` ignored every flag whose commander attribute name differs from its
// setting key — all durations (`--instance-start-timeout` → `instanceStartTimeout`, but the
// setting is `instanceStartTimeoutMs`), `--probe-failures` (`probeFailureThreshold`) — so
// Sluice silently ran with the defaults (a model that never answered /ping kept an endpoint
// Creating for 120 s whatever the flag said).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { NEVER_READY_MODEL, sagemaker, writeLocalModel } from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

describe("sluice serve honours flags whose setting key differs from the flag's name", () => {
  let sluice: SluiceProcess;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sluice-flags-"));
    sluice = await startSluice({ args: ["--instance-start-timeout", "2s"] });
  });
  after(async () => {
    await sluice?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("--instance-start-timeout bounds how long a model may take to answer /ping", async () => {
    const sm = sagemaker(sluice);
    await sm.send(new CreateModelCommand({ ModelName: "never-ready", PrimaryContainer: { Image: writeLocalModel(scratch, "never-ready", NEVER_READY_MODEL) } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "never-ready",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "never-ready", InitialInstanceCount: 1 }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: "never-ready", EndpointConfigName: "never-ready" }));
    // The cap is well under the 120 s default, so the default cannot pass for the flag.
    const d = await waitFor("the endpoint to fail", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "never-ready" }));
      return d.EndpointStatus === "Failed" ? d : undefined;
    }, 60_000);
    assert.match(d.FailureReason ?? "", /did not answer GET \/ping with 200 within 2 s \(GET \/ping answered 500\)/);
  });
});
