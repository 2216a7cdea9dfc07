// Issue 2, "What it must show": the real @aws-sdk/client-sagemaker drives Sluice's control plane
// through a whole endpoint lifecycle, and the instances behind it are real processes.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  type DescribeEndpointCommandOutput,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";
import { ACCOUNT, EXITS_AT_ONCE_MODEL, isAlive, listInstances, pingInstance, REGION, runtime, sagemaker, writeLocalModel } from "./helpers/control.js";
import { startSluice, waitFor, type SluiceProcess } from "./helpers/sluice.js";

const arn = (kind: string, name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;

/** Walks every page with MaxResults 1, returning the names in order and how many pages it took. */
async function allPages<T>(fetchPage: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(token);
    pages++;
    assert.ok(page.items.length <= 1, "MaxResults 1 returns at most one item");
    items.push(...page.items);
    token = page.next;
    assert.ok(pages < 50, "pagination ends");
  } while (token);
  return { items, pages };
}

describe("the AWS SDK for JavaScript drives an endpoint's whole lifecycle", () => {
  let sluice: SluiceProcess;
  let sm: SageMakerClient;
  let scratch: string;
  let startedAt: number;
  let firstPids: number[] = [];

  before(async () => {
    startedAt = Date.now();
    scratch = mkdtempSync(join(tmpdir(), "sluice-sdk-"));
    sluice = await startSluice();
    sm = sagemaker(sluice);
  });
  after(async () => {
    await sluice?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("creates models and endpoint configs whose ARNs carry the signing region and the lower-cased name", async () => {
    const model = await sm.send(new CreateModelCommand({ ModelName: "Echo-Model", PrimaryContainer: { Image: "sluice/echo" } }));
    assert.equal(model.ModelArn, arn("model", "echo-model"));
    await sm.send(new CreateModelCommand({ ModelName: "alpha-model", PrimaryContainer: { Image: "sluice/echo" } }));
    await sm.send(new CreateModelCommand({ ModelName: "zeta-model", PrimaryContainer: { Image: "sluice/echo" } }));
    await sm.send(
      new CreateModelCommand({ ModelName: "broken-model", PrimaryContainer: { Image: writeLocalModel(scratch, "broken", EXITS_AT_ONCE_MODEL) } }),
    );

    const described = await sm.send(new DescribeModelCommand({ ModelName: "Echo-Model" }));
    assert.equal(described.ModelName, "Echo-Model");
    assert.equal(described.ModelArn, arn("model", "echo-model"));
    assert.equal(described.PrimaryContainer?.Image, "sluice/echo");
    assert.ok(described.CreationTime instanceof Date);

    const config = await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "Echo-Config",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "Echo-Model", InitialInstanceCount: 2, InstanceType: "ml.m5.large" }],
      }),
    );
    assert.equal(config.EndpointConfigArn, arn("endpoint-config", "echo-config"));
    const described2 = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: "Echo-Config" }));
    assert.equal(described2.ProductionVariants?.[0]?.InitialInstanceCount, 2);
    assert.equal(described2.ProductionVariants?.[0]?.ModelName, "Echo-Model");
  });

  it("creates an endpoint with two instances and the endpoint_in_service waiter sees it InService", async () => {
    const created = await sm.send(new CreateEndpointCommand({ EndpointName: "Echo-Endpoint", EndpointConfigName: "Echo-Config" }));
    assert.equal(created.EndpointArn, arn("endpoint", "echo-endpoint"));
    const waited = await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: "Echo-Endpoint" });
    assert.equal(waited.state, "SUCCESS");

    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    assert.equal(d.EndpointName, "Echo-Endpoint");
    assert.equal(d.EndpointArn, arn("endpoint", "echo-endpoint"));
    assert.equal(d.EndpointConfigName, "Echo-Config");
    assert.equal(d.EndpointStatus, "InService");
    assert.equal(d.FailureReason, undefined);
    // Epoch seconds on the wire become Dates of this very run (not 1970, not the year 50000).
    assert.ok(d.CreationTime instanceof Date && d.LastModifiedTime instanceof Date);
    assert.ok(d.CreationTime.getTime() >= startedAt - 1000 && d.CreationTime.getTime() <= Date.now() + 1000, `CreationTime ${d.CreationTime.toISOString()}`);
    assert.ok(d.LastModifiedTime.getTime() >= d.CreationTime.getTime());
    assert.equal(d.ProductionVariants?.length, 1);
    const v = d.ProductionVariants![0]!;
    assert.equal(v.VariantName, "AllTraffic");
    assert.equal(v.CurrentInstanceCount, 2);
    assert.equal(v.DesiredInstanceCount, 2);
    assert.equal(v.CurrentWeight, 1);
    assert.equal(v.DesiredWeight, 1);
    assert.equal(v.DeployedImages?.length, 1);
    assert.equal(v.DeployedImages![0]!.SpecifiedImage, "sluice/echo");
    assert.match(v.DeployedImages![0]!.ResolvedImage ?? "", /models\/echo/);
    assert.ok(v.DeployedImages![0]!.ResolutionTime instanceof Date);
  });

  it("runs each instance as a live process of its own that answers /ping", async () => {
    const rows = await listInstances(sluice, "Echo-Endpoint");
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.EndpointName, "Echo-Endpoint");
      assert.equal(r.VariantName, "AllTraffic");
      assert.equal(r.State, "Healthy");
      assert.equal(r.InRotation, true);
      assert.equal(typeof r.Pid, "number");
      assert.ok(isAlive(r.Pid!), `pid ${r.Pid} is alive`);
      assert.notEqual(r.Pid, sluice.proc.pid);
      assert.equal(await pingInstance(r.Port), 200);
    }
    assert.notEqual(rows[0]!.Pid, rows[1]!.Pid);
    assert.notEqual(rows[0]!.Port, rows[1]!.Port);
    firstPids = rows.map((r) => r.Pid!);

    // And the endpoint serves through Sluice's runtime.
    const out = await runtime(sluice).send(
      new InvokeEndpointCommand({ EndpointName: "Echo-Endpoint", Body: new TextEncoder().encode("hello"), ContentType: "text/plain" }),
    );
    assert.equal(new TextDecoder().decode(out.Body), "hello");
    assert.equal(out.InvokedProductionVariant, "AllTraffic");
  });

  it("lists models with pagination, sorting and NameContains", async () => {
    const page = async (input: ConstructorParameters<typeof ListModelsCommand>[0]) =>
      allPages(async (token) => {
        const r = await sm.send(new ListModelsCommand({ ...input, MaxResults: 1, NextToken: token }));
        return { items: (r.Models ?? []).map((m) => m.ModelName!), next: r.NextToken };
      });
    // Default: CreationTime, newest first.
    assert.deepEqual((await page({})).items, ["broken-model", "zeta-model", "alpha-model", "Echo-Model"]);
    const byName = await page({ SortBy: "Name", SortOrder: "Ascending" });
    assert.deepEqual(byName.items, ["alpha-model", "broken-model", "Echo-Model", "zeta-model"]);
    assert.equal(byName.pages, 4);
    assert.deepEqual((await page({ SortBy: "Name", SortOrder: "Descending" })).items, ["zeta-model", "Echo-Model", "broken-model", "alpha-model"]);
    assert.deepEqual((await page({ SortBy: "CreationTime", SortOrder: "Ascending", NameContains: "ta-m" })).items, ["zeta-model"]);
    // One page holding everything has no NextToken.
    const whole = await sm.send(new ListModelsCommand({ MaxResults: 10 }));
    assert.equal(whole.Models?.length, 4);
    assert.equal(whole.NextToken, undefined);
    const m = whole.Models!.find((x) => x.ModelName === "Echo-Model")!;
    assert.equal(m.ModelArn, arn("model", "echo-model"));
    assert.ok(m.CreationTime instanceof Date);
  });

  it("lists endpoints with pagination, SortBy, SortOrder, NameContains and StatusEquals", async () => {
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "broken-config",
        ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "broken-model", InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: "broken-endpoint", EndpointConfigName: "broken-config" }));
    const failed = await waitFor("broken-endpoint to fail", async () => {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "broken-endpoint" }));
      return d.EndpointStatus === "Failed" ? d : undefined;
    });
    assert.match(failed.FailureReason ?? "", /exited \(code 3\) before answering GET \/ping/);

    const page = async (input: ConstructorParameters<typeof ListEndpointsCommand>[0]) =>
      allPages(async (token) => {
        const r = await sm.send(new ListEndpointsCommand({ ...input, MaxResults: 1, NextToken: token }));
        return { items: (r.Endpoints ?? []).map((e) => `${e.EndpointName}:${e.EndpointStatus}`), next: r.NextToken };
      });
    const all = await page({});
    assert.deepEqual(all.items, ["broken-endpoint:Failed", "Echo-Endpoint:InService"]);
    assert.equal(all.pages, 2);
    assert.deepEqual((await page({ SortBy: "CreationTime", SortOrder: "Ascending" })).items, ["Echo-Endpoint:InService", "broken-endpoint:Failed"]);
    assert.deepEqual((await page({ SortBy: "Name", SortOrder: "Ascending" })).items, ["broken-endpoint:Failed", "Echo-Endpoint:InService"]);
    assert.deepEqual((await page({ SortBy: "Name", SortOrder: "Descending" })).items, ["Echo-Endpoint:InService", "broken-endpoint:Failed"]);
    assert.deepEqual((await page({ StatusEquals: "InService" })).items, ["Echo-Endpoint:InService"]);
    assert.deepEqual((await page({ StatusEquals: "Failed" })).items, ["broken-endpoint:Failed"]);
    assert.deepEqual((await page({ StatusEquals: "Creating" })).items, []);
    assert.deepEqual((await page({ NameContains: "broken" })).items, ["broken-endpoint:Failed"]);

    const summary = (await sm.send(new ListEndpointsCommand({ NameContains: "Echo" }))).Endpoints!;
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.EndpointArn, arn("endpoint", "echo-endpoint"));
    assert.ok(summary[0]!.CreationTime instanceof Date && summary[0]!.LastModifiedTime instanceof Date);

    const configs = await sm.send(new ListEndpointConfigsCommand({ SortBy: "Name", SortOrder: "Ascending" }));
    assert.deepEqual(configs.EndpointConfigs?.map((c) => c.EndpointConfigName), ["broken-config", "Echo-Config"]);

    await sm.send(new DeleteEndpointCommand({ EndpointName: "broken-endpoint" }));
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "broken-endpoint" });
  });

  it("adds, lists and deletes tags", async () => {
    const resource = arn("endpoint", "Echo-Endpoint");
    await sm.send(new AddTagsCommand({ ResourceArn: resource, Tags: [{ Key: "team", Value: "speech" }, { Key: "env", Value: "test" }] }));
    const listed = await sm.send(new ListTagsCommand({ ResourceArn: resource }));
    assert.deepEqual(
      [...(listed.Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!)),
      [
        { Key: "env", Value: "test" },
        { Key: "team", Value: "speech" },
      ],
    );
    // Adding a key again replaces its value.
    await sm.send(new AddTagsCommand({ ResourceArn: resource, Tags: [{ Key: "team", Value: "voice" }] }));
    await sm.send(new DeleteTagsCommand({ ResourceArn: resource, TagKeys: ["env"] }));
    assert.deepEqual((await sm.send(new ListTagsCommand({ ResourceArn: resource }))).Tags, [{ Key: "team", Value: "voice" }]);
    // Tags of one resource are not another's.
    assert.deepEqual((await sm.send(new ListTagsCommand({ ResourceArn: arn("model", "echo-model") }))).Tags, []);
  });

  it("updates to a new config: the new instances start first, then the old ones go", async () => {
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: "Echo-Config-v2",
        ProductionVariants: [{ VariantName: "VariantB", ModelName: "alpha-model", InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
      }),
    );
    await sm.send(new UpdateEndpointCommand({ EndpointName: "Echo-Endpoint", EndpointConfigName: "Echo-Config-v2" }));
    const during = await sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    assert.equal(during.EndpointStatus, "Updating");
    assert.equal(during.EndpointConfigName, "Echo-Config", "the old config serves while the update runs");
    for (const pid of firstPids) assert.ok(isAlive(pid), `old instance ${pid} still runs during the update`);

    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: "Echo-Endpoint" });
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    assert.equal(d.EndpointStatus, "InService");
    assert.equal(d.EndpointConfigName, "Echo-Config-v2");
    assert.equal(d.FailureReason, undefined);
    assert.deepEqual(
      d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount, v.CurrentWeight, v.DesiredWeight]),
      [["VariantB", 1, 1, 1, 1]],
    );
    assert.equal(d.PendingDeploymentSummary, undefined);

    await waitFor("the old instances to exit", () => (firstPids.every((p) => !isAlive(p)) ? true : undefined), 30_000);
    const rows = await listInstances(sluice, "Echo-Endpoint");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.VariantName, "VariantB");
    assert.ok(!firstPids.includes(rows[0]!.Pid!));
    assert.ok(isAlive(rows[0]!.Pid!));
    firstPids = [rows[0]!.Pid!];
  });

  it("scales and reweights with UpdateEndpointWeightsAndCapacities", async () => {
    await sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: "Echo-Endpoint",
        DesiredWeightsAndCapacities: [{ VariantName: "VariantB", DesiredInstanceCount: 2, DesiredWeight: 0.5 }],
      }),
    );
    const during = await sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    assert.equal(during.EndpointStatus, "Updating");
    assert.equal(during.ProductionVariants?.[0]?.DesiredInstanceCount, 2);
    assert.equal(during.ProductionVariants?.[0]?.DesiredWeight, 0.5);

    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: "Echo-Endpoint" });
    const d: DescribeEndpointCommandOutput = await sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    assert.deepEqual(
      d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount, v.CurrentWeight, v.DesiredWeight]),
      [["VariantB", 2, 2, 0.5, 0.5]],
    );
    const rows = await listInstances(sluice, "Echo-Endpoint");
    assert.equal(rows.length, 2);
    assert.ok(rows.some((r) => r.Pid === firstPids[0]), "the instance that was there keeps running");
    for (const r of rows) assert.ok(isAlive(r.Pid!));
    firstPids = rows.map((r) => r.Pid!);
  });

  it("deletes the endpoint: the endpoint_deleted waiter succeeds, its processes are gone, Describe says it cannot be found", async () => {
    await sm.send(new DeleteEndpointCommand({ EndpointName: "Echo-Endpoint" }));
    const waited = await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: "Echo-Endpoint" });
    assert.equal(waited.state, "SUCCESS");
    await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: "Echo-Endpoint" })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, "ValidationException");
      assert.equal(err.message, `Could not find endpoint "${arn("endpoint", "echo-endpoint")}".`);
      assert.equal(err.$metadata?.httpStatusCode, 400);
      return true;
    });
    for (const pid of firstPids) assert.equal(isAlive(pid), false, `instance ${pid} is gone`);
    assert.deepEqual(await listInstances(sluice), []);
    assert.deepEqual((await sm.send(new ListEndpointsCommand({}))).Endpoints, []);
  });

  it("deletes endpoint configs and models", async () => {
    await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: "Echo-Config" }));
    await assert.rejects(sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: "Echo-Config" })), {
      name: "ValidationException",
      message: `Could not find endpoint configuration "${arn("endpoint-config", "echo-config")}".`,
    });
    await sm.send(new DeleteModelCommand({ ModelName: "Echo-Model" }));
    await assert.rejects(sm.send(new DescribeModelCommand({ ModelName: "Echo-Model" })), {
      name: "ValidationException",
      message: `Could not find model "${arn("model", "echo-model")}".`,
    });
    assert.deepEqual(
      (await sm.send(new ListModelsCommand({ SortBy: "Name", SortOrder: "Ascending" }))).Models?.map((m) => m.ModelName),
      ["alpha-model", "broken-model", "zeta-model"],
    );
  });
});
