// DESIGN §3 "one prober owns health": an instance that dies is replaced, and one that stops
// answering /ping is killed at once and replaced; the endpoint stays InService throughout and the
// replacement counts as a restart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  waitUntilEndpointInService,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import { isAlive, killGroups, listInstances, runtime, sagemaker, type InstanceRow } from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

describe("instances that die or hang are replaced while the endpoint stays InService", () => {
  let sluice: SluiceProcess;
  let sm: SageMakerClient;
  const stopped: number[] = [];

  /** Waits until the endpoint has two healthy instances, none of them in `gone`. */
  const twoHealthyWithout = (gone: InstanceRow) =>
    waitFor(`a replacement for ${gone.InstanceId}`, async () => {
      const rows = await listInstances(sluice, "crashy");
      const ok = rows.length === 2 && rows.every((r) => r.State === "Healthy" && r.InstanceId !== gone.InstanceId);
      return ok ? rows : undefined;
    });

  before(async () => {
    sluice = await startSluice({ args: ["--probe-interval", "300ms", "--probe-failures", "2"] });
    sm = sagemaker(sluice);
    await sm.send(new CreateModelCommand({ ModelName: "echo", PrimaryContainer: { Image: "sluice/echo" } }));
    await sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: "echo", ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "echo", InitialInstanceCount: 2 }] }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: "crashy", EndpointConfigName: "echo" }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "crashy" });
  });
  after(async () => {
    // A SIGSTOPped instance must not outlive the test if Sluice failed to kill it.
    for (const pid of stopped) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
    }
    await sluice?.cleanup();
    killGroups(stopped);
  });

  it("an instance killed from outside is replaced, with a restart counted", async () => {
    const [victim, survivor] = await listInstances(sluice, "crashy");
    process.kill(victim!.Pid!, "SIGKILL");
    const rows = await twoHealthyWithout(victim!);
    const replacement = rows.find((r) => r.InstanceId !== survivor!.InstanceId)!;
    assert.ok(rows.some((r) => r.InstanceId === survivor!.InstanceId && r.Pid === survivor!.Pid), "the other instance was left alone");
    assert.notEqual(replacement.Pid, victim!.Pid);
    assert.ok(isAlive(replacement.Pid!));
    assert.equal(replacement.Restarts, 1);
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "crashy" }));
    assert.equal(d.EndpointStatus, "InService");
    assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 2);
  });

  it("an instance that stops answering /ping is killed and replaced", async () => {
    const [victim] = await listInstances(sluice, "crashy");
    stopped.push(victim!.Pid!);
    process.kill(victim!.Pid!, "SIGSTOP");
    await twoHealthyWithout(victim!);
    await waitFor("the hung instance to be killed", () => (isAlive(victim!.Pid!) ? undefined : true), 30_000);
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: "crashy" }))).EndpointStatus, "InService");
    const out = await runtime(sluice).send(new InvokeEndpointCommand({ EndpointName: "crashy", Body: new TextEncoder().encode("still here") }));
    assert.equal(new TextDecoder().decode(out.Body), "still here");
  });
});
