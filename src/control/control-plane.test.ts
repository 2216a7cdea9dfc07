import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { join } from "node:path";
import { FakeHost } from "./test-support/fake-host.js";
import { openHarness, tempDir, untilStatus, type Harness } from "./test-support/harness.js";

const ACCOUNT = "000000000000";
const arn = (kind: string, name: string, region = "us-east-1"): string =>
  `arn:aws:sagemaker:${region}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;

async function setup(t: TestContext, options = {}): Promise<Harness & { host: FakeHost }> {
  const host = new FakeHost();
  const h = await openHarness(t, [host], options);
  return { ...h, host };
}

function assertError(res: { status: number; body: any }, type: string, message: string | RegExp, status = 400): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.__type, type);
  if (typeof message === "string") assert.equal(res.body.Message, message);
  else assert.match(res.body.Message, message);
}

async function model(h: Harness, name: string, image = "sluice/echo", extra: object = {}): Promise<void> {
  const res = await h.call("CreateModel", { ModelName: name, PrimaryContainer: { Image: image }, ...extra });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function config(h: Harness, name: string, modelName: string, count = 1, extra: object = {}): Promise<void> {
  const res = await h.call("CreateEndpointConfig", {
    EndpointConfigName: name,
    ProductionVariants: [
      { VariantName: "AllTraffic", ModelName: modelName, InitialInstanceCount: count, InstanceType: "ml.m5.large" },
    ],
    ...extra,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

describe("protocol errors", () => {
  it("refuses an unknown target with UnknownOperationException", async (t) => {
    const h = await setup(t);
    assertError(await h.call("SageMaker.CreateTrainingJob", {}), "UnknownOperationException", 'Unknown operation "SageMaker.CreateTrainingJob".');
    assertError(await h.call("toString", {}), "UnknownOperationException", /Unknown operation/);
  });

  it("refuses malformed JSON and non-object bodies with SerializationException", async (t) => {
    const h = await setup(t);
    assertError(await h.call("CreateModel", '{"ModelName": '), "SerializationException", /not valid JSON/);
    assertError(await h.call("CreateModel", "[1]"), "SerializationException", "The request body must be a JSON object.");
    assertError(
      await h.call("CreateModel", { ModelName: 5, PrimaryContainer: { Image: "sluice/echo" } }),
      "SerializationException",
      "Value 5 at 'modelName' is a number; expected a string",
    );
    assert.deepEqual((await h.call("ListModels")).body.Models, []);
  });

  it("refuses a signing region that cannot be part of an ARN", async (t) => {
    const h = await setup(t);
    assertError(await h.call("ListModels", {}, "US_EAST"), "ValidationException", '"US_EAST" is not a valid region name.');
  });

  it("answers an empty body like {}", async (t) => {
    const h = await setup(t);
    const res = await h.call("ListEndpoints", "");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { Endpoints: [] });
  });
});

describe("models", () => {
  it("creates, describes and deletes a model; the ARN carries the signing region and the lower-cased name", async (t) => {
    const h = await setup(t);
    const dataDir = tempDir(t);
    const created = await h.call(
      "CreateModel",
      {
        ModelName: "Echo-Model",
        PrimaryContainer: { Image: "sluice/echo", ModelDataUrl: `file://${dataDir}`, Environment: { A: "1" } },
        ExecutionRoleArn: "arn:aws:iam::123456789012:role/SageMakerRole",
      },
      "eu-west-1",
    );
    assert.equal(created.status, 200);
    assert.deepEqual(created.body, { ModelArn: arn("model", "echo-model", "eu-west-1") });

    const described = await h.call("DescribeModel", { ModelName: "echo-model" });
    assert.equal(described.status, 200);
    assert.equal(described.body.ModelName, "Echo-Model");
    assert.equal(described.body.ModelArn, arn("model", "echo-model", "eu-west-1"));
    assert.deepEqual(described.body.PrimaryContainer, {
      Image: "sluice/echo",
      ModelDataUrl: `file://${dataDir}`,
      Environment: { A: "1" },
    });
    assert.equal(described.body.ExecutionRoleArn, "arn:aws:iam::123456789012:role/SageMakerRole");
    assert.equal(described.body.EnableNetworkIsolation, false);
    assert.equal(typeof described.body.CreationTime, "number");

    assert.deepEqual((await h.call("DeleteModel", { ModelName: "Echo-Model" })).body, {});
    assertError(
      await h.call("DescribeModel", { ModelName: "Echo-Model" }),
      "ValidationException",
      `Could not find model "${arn("model", "echo-model")}".`,
    );
    assertError(
      await h.call("DeleteModel", { ModelName: "Echo-Model" }),
      "ValidationException",
      `Could not find model "${arn("model", "echo-model")}".`,
    );
  });

  it("refuses a second model of the same name, whatever its case", async (t) => {
    const h = await setup(t);
    await model(h, "m1");
    assertError(
      await h.call("CreateModel", { ModelName: "M1", PrimaryContainer: { Image: "sluice/echo" } }),
      "ValidationException",
      `Cannot create already existing model "${arn("model", "m1")}".`,
    );
  });

  it("reports constraint violations in SageMaker's words and stores nothing", async (t) => {
    const h = await setup(t);
    const cases: [unknown, string][] = [
      [
        { PrimaryContainer: { Image: "sluice/echo" } },
        "1 validation error detected: Value null at 'modelName' failed to satisfy constraint: Member must not be null",
      ],
      [
        { ModelName: "bad_name", PrimaryContainer: { Image: "sluice/echo" } },
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?",
      ],
      [
        { ModelName: "a".repeat(64), PrimaryContainer: { Image: "sluice/echo" } },
        `1 validation error detected: Value '${"a".repeat(64)}' at 'modelName' failed to satisfy constraint: Member must have length less than or equal to 63`,
      ],
      [
        { ModelName: "m", PrimaryContainer: { Image: "sluice/echo", Mode: "Single" } },
        "1 validation error detected: Value 'Single' at 'primaryContainer.mode' failed to satisfy constraint: Member must satisfy enum value set: [SingleModel, MultiModel]",
      ],
      [
        { ModelName: "-m", PrimaryContainer: { Image: "sluice/echo" }, ExecutionRoleArn: "role" },
        "3 validation errors detected: Value '-m' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?; " +
          "Value 'role' at 'executionRoleArn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
          "Value 'role' at 'executionRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
      ],
      [
        { ModelName: "m", PrimaryContainer: { Image: "sluice/echo", Environment: { "1BAD": "x" } } },
        "1 validation error detected: Value '1BAD' at 'primaryContainer.environment.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*",
      ],
      [
        { ModelName: "m", PrimaryContainer: { Image: "sluice/echo" }, Tags: [{ Key: "k" }] },
        "1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null",
      ],
      [{ ModelName: "m" }, "1 validation error detected: Value null at 'primaryContainer' failed to satisfy constraint: Member must not be null"],
      [
        { ModelName: "m", PrimaryContainer: {} },
        "1 validation error detected: Value null at 'primaryContainer.image' failed to satisfy constraint: Member must not be null",
      ],
    ];
    for (const [body, message] of cases) {
      assertError(await h.call("CreateModel", body), "ValidationException", message);
    }
    assert.deepEqual((await h.call("ListModels")).body.Models, []);
  });

  it("refuses images and model data Sluice cannot run, saying what to do instead", async (t) => {
    const h = await setup(t);
    const create = (container: object): ReturnType<Harness["call"]> =>
      h.call("CreateModel", { ModelName: "m", PrimaryContainer: container });
    assertError(await create({ Image: "sluice/whisper" }), "ValidationException", /sluice\/ prefix is reserved/);
    assertError(
      await create({ Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:latest" }),
      "ValidationException",
      /is a container image reference, but no Docker host is configured/,
    );
    assertError(
      await create({ Image: "sluice/echo", ModelDataUrl: "s3://bucket/model.tar.gz" }),
      "ValidationException",
      /is an S3 URL; Sluice has no S3/,
    );
    assertError(await create({ Image: "sluice/echo", ModelDataUrl: "relative/dir" }), "ValidationException", /must be an absolute path/);
    assertError(
      await create({ Image: "sluice/echo", ModelDataUrl: "/no/such/model/data" }),
      "ValidationException",
      /does not exist on this machine/,
    );
    assertError(await create({ Image: "/opt/models/missing" }), "ValidationException", /has no sluice-model.json/);
    assertError(await create({ Image: "./models/missing" }), "ValidationException", /has no sluice-model.json/);
    assertError(await create({ Image: "sluice/echo", Mode: "MultiModel" }), "ValidationException", /MultiModel is not supported by Sluice/);
    assertError(
      await create({ Image: "sluice/echo", ModelPackageName: "pkg" }),
      "ValidationException",
      /^PrimaryContainer.ModelPackageName is not supported by Sluice/,
    );
    assertError(
      await h.call("CreateModel", { ModelName: "m", Containers: [{ Image: "sluice/echo" }, { Image: "sluice/echo" }] }),
      "ValidationException",
      /more than one container is not supported by Sluice/,
    );
    assertError(
      await h.call("CreateModel", { ModelName: "m", PrimaryContainer: { Image: "sluice/echo" }, Tags: [{ Key: "aws:x", Value: "1" }] }),
      "ValidationException",
      /aws: prefix is reserved/,
    );
    assert.deepEqual((await h.call("ListModels")).body.Models, []);
  });

  it("accepts a one-element Containers list in place of PrimaryContainer", async (t) => {
    const h = await setup(t);
    const res = await h.call("CreateModel", { ModelName: "m", Containers: [{ Image: "sluice/echo" }] });
    assert.equal(res.status, 200);
    assert.deepEqual((await h.call("DescribeModel", { ModelName: "m" })).body.Containers, [{ Image: "sluice/echo" }]);
  });

  it("lists with pagination, sorting, NameContains and creation-time filters", async (t) => {
    let offset = 0;
    const h = await setup(t, { now: () => Date.parse("2026-01-01T00:00:00Z") + offset });
    const names = ["alpha", "Bravo", "charlie", "delta-x", "echo-x"];
    for (const name of names) {
      await model(h, name);
      offset += 3_600_000;
    }
    // Default: newest first.
    const all = await h.call("ListModels", {});
    assert.deepEqual(
      all.body.Models.map((m: any) => m.ModelName),
      [...names].reverse(),
    );
    assert.equal(all.body.NextToken, undefined);

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await h.call("ListModels", { SortBy: "Name", SortOrder: "Ascending", MaxResults: 2, NextToken: token });
      assert.equal(page.status, 200);
      assert.ok(page.body.Models.length <= 2);
      seen.push(...page.body.Models.map((m: any) => m.ModelName));
      token = page.body.NextToken;
      pages++;
    } while (token !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ["alpha", "Bravo", "charlie", "delta-x", "echo-x"]);

    const contains = await h.call("ListModels", { NameContains: "X", SortBy: "Name", SortOrder: "Ascending" });
    assert.deepEqual(contains.body.Models.map((m: any) => m.ModelName), ["delta-x", "echo-x"]);

    const base = Date.parse("2026-01-01T00:00:00Z") / 1000;
    const window = await h.call("ListModels", { CreationTimeAfter: base, CreationTimeBefore: base + 3 * 3600, SortOrder: "Ascending" });
    assert.deepEqual(window.body.Models.map((m: any) => m.ModelName), ["Bravo", "charlie"]);

    assertError(await h.call("ListModels", { NextToken: "garbage" }), "ValidationException", /Invalid NextToken/);
    assertError(
      await h.call("ListModels", { MaxResults: 101 }),
      "ValidationException",
      "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100",
    );
    assertError(await h.call("ListModels", { SortBy: "Status" }), "ValidationException", /enum value set: \[Name, CreationTime\]/);
  });
});

describe("endpoint configs", () => {
  it("creates and describes a config with SageMaker's defaults, and deletes it", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const res = await h.call("CreateEndpointConfig", {
      EndpointConfigName: "cfg",
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "m", InitialInstanceCount: 2, InstanceType: "ml.m5.large" }],
      KmsKeyId: "alias/key",
      Tags: [{ Key: "team", Value: "speech" }],
    });
    assert.deepEqual(res.body, { EndpointConfigArn: arn("endpoint-config", "cfg") });
    const d = await h.call("DescribeEndpointConfig", { EndpointConfigName: "cfg" });
    assert.equal(d.body.EndpointConfigArn, arn("endpoint-config", "cfg"));
    assert.equal(d.body.KmsKeyId, "alias/key");
    assert.deepEqual(d.body.ProductionVariants, [
      { VariantName: "AllTraffic", ModelName: "m", InitialInstanceCount: 2, InstanceType: "ml.m5.large", InitialVariantWeight: 1 },
    ]);
    assert.deepEqual((await h.call("ListTags", { ResourceArn: arn("endpoint-config", "cfg") })).body.Tags, [
      { Key: "team", Value: "speech" },
    ]);
    assertError(
      await h.call("CreateEndpointConfig", {
        EndpointConfigName: "CFG",
        ProductionVariants: [{ VariantName: "v", ModelName: "m", InitialInstanceCount: 1 }],
      }),
      "ValidationException",
      `Cannot create already existing endpoint configuration "${arn("endpoint-config", "cfg")}".`,
    );
    assert.deepEqual((await h.call("DeleteEndpointConfig", { EndpointConfigName: "cfg" })).body, {});
    assertError(
      await h.call("DescribeEndpointConfig", { EndpointConfigName: "cfg" }),
      "ValidationException",
      `Could not find endpoint configuration "${arn("endpoint-config", "cfg")}".`,
    );
    // Its tags went with it.
    assert.equal((await h.call("ListTags", { ResourceArn: arn("endpoint-config", "cfg") })).status, 400);
  });

  it("refuses configs that name missing models, repeat variants, or use what Sluice does not support", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const create = (variants: object[], extra: object = {}): ReturnType<Harness["call"]> =>
      h.call("CreateEndpointConfig", { EndpointConfigName: "cfg", ProductionVariants: variants, ...extra });
    assertError(
      await create([{ VariantName: "v", ModelName: "nope", InitialInstanceCount: 1 }]),
      "ValidationException",
      `Could not find model "${arn("model", "nope")}".`,
    );
    assertError(
      await create([
        { VariantName: "v", ModelName: "m", InitialInstanceCount: 1 },
        { VariantName: "V", ModelName: "m", InitialInstanceCount: 1 },
      ]),
      "ValidationException",
      /must be unique/,
    );
    assertError(
      await create([{ VariantName: "v", ModelName: "m" }]),
      "ValidationException",
      "1 validation error detected: Value null at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must not be null",
    );
    assertError(
      await create([{ VariantName: "v", ModelName: "m", InitialInstanceCount: 0, InstanceType: "ml.huge" }]),
      "ValidationException",
      /^2 validation errors detected: Value '0' at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'ml.huge' at 'productionVariants.1.member.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[ml.t2.medium, /,
    );
    assertError(await create([]), "ValidationException", /at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1/);
    assertError(
      await create([{ VariantName: "v", ModelName: "m", ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 1 } }]),
      "ValidationException",
      /^ProductionVariants.ServerlessConfig is not supported by Sluice/,
    );
    assertError(
      await create([{ VariantName: "v", ModelName: "m", InitialInstanceCount: 1 }], { AsyncInferenceConfig: { OutputConfig: {} } }),
      "ValidationException",
      /^AsyncInferenceConfig is not supported by Sluice/,
    );
    assert.deepEqual((await h.call("ListEndpointConfigs")).body.EndpointConfigs, []);
  });

  it("stores no-op members and returns them", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const capture = {
      EnableCapture: true,
      InitialSamplingPercentage: 50,
      DestinationS3Uri: "s3://bucket/capture",
      CaptureOptions: [{ CaptureMode: "Input" }],
    };
    await config(h, "cfg", "m", 1, { DataCaptureConfig: capture, EnableNetworkIsolation: true });
    const d = await h.call("DescribeEndpointConfig", { EndpointConfigName: "cfg" });
    assert.deepEqual(d.body.DataCaptureConfig, capture);
    assert.equal(d.body.EnableNetworkIsolation, true);
  });
});

describe("endpoints", () => {
  it("creates an endpoint that answers Creating at once and reaches InService with its instances", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    await config(h, "cfg", "m", 2);
    const res = await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg", Tags: [{ Key: "a", Value: "b" }] });
    assert.deepEqual(res.body, { EndpointArn: arn("endpoint", "ep") });
    const first = await h.call("DescribeEndpoint", { EndpointName: "ep" });
    assert.ok(["Creating", "InService"].includes(first.body.EndpointStatus));

    const d = await untilStatus(h, "ep", "InService");
    assert.equal(d.EndpointArn, arn("endpoint", "ep"));
    assert.equal(d.EndpointConfigName, "cfg");
    assert.equal(d.FailureReason, undefined);
    assert.equal(d.ProductionVariants.length, 1);
    const v = d.ProductionVariants[0];
    assert.equal(v.VariantName, "AllTraffic");
    assert.equal(v.CurrentInstanceCount, 2);
    assert.equal(v.DesiredInstanceCount, 2);
    assert.equal(v.CurrentWeight, 1);
    assert.equal(v.DesiredWeight, 1);
    assert.equal(v.DeployedImages[0].SpecifiedImage, "sluice/echo");
    assert.equal(v.DeployedImages[0].ResolvedImage, "resolved:sluice/echo");
    assert.equal(typeof v.DeployedImages[0].ResolutionTime, "number");
    assert.equal(h.host.running().length, 2);

    const live = h.plane.live.getLiveEndpoint("EP");
    assert.equal(live?.status, "InService");
    assert.equal(live?.variants[0]?.bidiCapable, true);
    assert.equal(live?.variants[0]?.instances.filter((i) => i.inRotation).length, 2);

    assertError(
      await h.call("CreateEndpoint", { EndpointName: "EP", EndpointConfigName: "cfg" }),
      "ValidationException",
      `Cannot create already existing endpoint "${arn("endpoint", "ep")}".`,
    );
    const listed = await h.call("ListEndpoints", { StatusEquals: "InService" });
    assert.deepEqual(
      listed.body.Endpoints.map((e: any) => [e.EndpointName, e.EndpointStatus]),
      [["ep", "InService"]],
    );
    assert.deepEqual((await h.call("ListEndpoints", { StatusEquals: "Failed" })).body.Endpoints, []);
    assert.deepEqual((await h.call("ListTags", { ResourceArn: arn("endpoint", "ep") })).body.Tags, [{ Key: "a", Value: "b" }]);
  });

  it("refuses endpoints whose config or models are missing, and stores nothing", async (t) => {
    const h = await setup(t);
    assertError(
      await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "nope" }),
      "ValidationException",
      `Could not find endpoint configuration "${arn("endpoint-config", "nope")}".`,
    );
    await model(h, "m");
    await config(h, "cfg", "m");
    await h.call("DeleteModel", { ModelName: "m" });
    assertError(
      await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" }),
      "ValidationException",
      `Could not find model "${arn("model", "m")}".`,
    );
    assertError(
      await h.call("DescribeEndpoint", { EndpointName: "ep" }),
      "ValidationException",
      `Could not find endpoint "${arn("endpoint", "ep")}".`,
    );
    assertError(
      await h.call("CreateEndpoint", { EndpointName: "e_p", EndpointConfigName: "cfg" }),
      "ValidationException",
      "1 validation error detected: Value 'e_p' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
    );
    assert.deepEqual((await h.call("ListEndpoints")).body.Endpoints, []);
    assert.equal(h.host.started.length, 0);
  });

  it("fails an endpoint whose instance never answers /ping, quoting the log", async (t) => {
    const h = await setup(t, { instanceStartTimeoutMs: 300 });
    await model(h, "m", "fake/crash");
    await config(h, "cfg", "m");
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" });
    const d = await untilStatus(h, "ep", "Failed");
    assert.match(d.FailureReason, /exited \(code 1\) before answering GET \/ping/);
    assert.match(d.FailureReason, /Last log lines: .*ModuleNotFoundError: no module named torch/);
    assert.equal(h.host.running().length, 0);
    assertError(
      await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" }),
      "ValidationException",
      `Cannot update failed endpoint "${arn("endpoint", "ep")}". Delete it and create it again.`,
    );
    await h.call("DeleteEndpoint", { EndpointName: "ep" });
    await untilGone(h, "ep");
  });

  it("updates to a new config: new instances first, old ones stopped after the switch", async (t) => {
    const h = await setup(t);
    await model(h, "m1");
    await model(h, "m2", "fake/plain");
    await config(h, "c1", "m1", 1);
    await config(h, "c2", "m2", 2);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c1" });
    await untilStatus(h, "ep", "InService");
    const [old] = h.host.running();
    assertError(
      await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "nope" }),
      "ValidationException",
      `Could not find endpoint configuration "${arn("endpoint-config", "nope")}".`,
    );
    const res = await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c2" });
    assert.deepEqual(res.body, { EndpointArn: arn("endpoint", "ep") });
    assertError(
      await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c2" }),
      "ValidationException",
      `Cannot update in-progress endpoint "${arn("endpoint", "ep")}".`,
    );
    const d = await untilStatus(h, "ep", "InService");
    assert.equal(d.EndpointConfigName, "c2");
    assert.equal(d.ProductionVariants[0].DesiredInstanceCount, 2);
    await h.plane.reconciler.whenIdle();
    assert.equal(old!.hasExited, true);
    assert.equal(old!.stopCalls, 1);
    assert.deepEqual(
      h.host.running().map((i) => i.spec.image),
      ["fake/plain", "fake/plain"],
    );
    assert.equal(h.plane.live.getLiveEndpoint("ep")?.variants[0]?.bidiCapable, false);
  });

  it("keeps the old instances serving when an update fails, and reports why", async (t) => {
    const h = await setup(t, { instanceStartTimeoutMs: 200 });
    await model(h, "good");
    await model(h, "bad", "fake/never-ready");
    await config(h, "c1", "good", 1);
    await config(h, "c2", "bad", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c1" });
    await untilStatus(h, "ep", "InService");
    const [old] = h.host.running();
    await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c2" });
    const d = await until2(h, async () => {
      const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
      return r.body.EndpointStatus === "InService" && r.body.FailureReason ? r.body : undefined;
    });
    assert.match(d.FailureReason, /did not answer GET \/ping with 200 within 200 ms \(GET \/ping answered 503\)/);
    assert.equal(d.EndpointConfigName, "c1");
    assert.equal(d.PendingDeploymentSummary, undefined);
    await h.plane.reconciler.whenIdle();
    assert.equal(old!.hasExited, false);
    assert.deepEqual(h.host.running(), [old]);
    const live = h.plane.live.getLiveEndpoint("ep");
    assert.deepEqual(
      live?.variants[0]?.instances.map((i) => [i.instanceId, i.inRotation]),
      [[old!.instanceId, true]],
    );
  });

  it("changes weights at once and instance counts through Updating, even after the config and model are deleted", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    await config(h, "cfg", "m", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" });
    await untilStatus(h, "ep", "InService");
    await h.call("DeleteEndpointConfig", { EndpointConfigName: "cfg" });
    await h.call("DeleteModel", { ModelName: "m" });

    const scale = await h.call("UpdateEndpointWeightsAndCapacities", {
      EndpointName: "ep",
      DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredWeight: 2, DesiredInstanceCount: 3 }],
    });
    assert.equal(scale.status, 200, JSON.stringify(scale.body));
    assert.equal(h.plane.live.getLiveEndpoint("ep")?.variants[0]?.currentWeight, 2);
    let d = await until2(h, async () => {
      const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
      return r.body.EndpointStatus === "InService" && r.body.ProductionVariants[0].CurrentInstanceCount === 3 ? r.body : undefined;
    });
    assert.equal(d.ProductionVariants[0].CurrentWeight, 2);
    assert.equal(h.host.running().length, 3);

    await h.call("UpdateEndpointWeightsAndCapacities", {
      EndpointName: "ep",
      DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredInstanceCount: 1 }],
    });
    d = await until2(h, async () => {
      const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
      return r.body.EndpointStatus === "InService" && h.host.running().length === 1 ? r.body : undefined;
    });
    assert.equal(d.ProductionVariants[0].DesiredInstanceCount, 1);

    assertError(
      await h.call("UpdateEndpointWeightsAndCapacities", {
        EndpointName: "ep",
        DesiredWeightsAndCapacities: [{ VariantName: "Other", DesiredWeight: 1 }],
      }),
      "ValidationException",
      `The variant "Other" does not exist in endpoint "${arn("endpoint", "ep")}".`,
    );
    assertError(
      await h.call("UpdateEndpointWeightsAndCapacities", {
        EndpointName: "ep",
        DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredInstanceCount: 0 }],
      }),
      "ValidationException",
      /DesiredInstanceCount 0 is not supported by Sluice/,
    );
  });

  it("carries instance counts and weights over with RetainAllVariantProperties, except those excluded", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    await config(h, "c1", "m", 1);
    await config(h, "c2", "m", 1);
    await config(h, "c3", "m", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "c1" });
    await untilStatus(h, "ep", "InService");
    await h.call("UpdateEndpointWeightsAndCapacities", {
      EndpointName: "ep",
      DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredWeight: 3, DesiredInstanceCount: 2 }],
    });
    await untilStatus(h, "ep", "InService");
    await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "c2", RetainAllVariantProperties: true });
    let d = await until2(h, async () => {
      const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
      return r.body.EndpointStatus === "InService" && r.body.EndpointConfigName === "c2" ? r.body : undefined;
    });
    assert.equal(d.ProductionVariants[0].DesiredInstanceCount, 2);
    assert.equal(d.ProductionVariants[0].DesiredWeight, 3);
    await h.call("UpdateEndpoint", {
      EndpointName: "ep",
      EndpointConfigName: "c3",
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: "DesiredInstanceCount" }],
    });
    d = await until2(h, async () => {
      const r = await h.call("DescribeEndpoint", { EndpointName: "ep" });
      return r.body.EndpointStatus === "InService" && r.body.EndpointConfigName === "c3" ? r.body : undefined;
    });
    assert.equal(d.ProductionVariants[0].DesiredInstanceCount, 1);
    assert.equal(d.ProductionVariants[0].DesiredWeight, 3);
  });

  it("refuses instance counts beyond the machine's limit with ResourceLimitExceeded", async (t) => {
    const h = await setup(t, { maxInstances: 3 });
    await model(h, "m");
    await config(h, "two", "m", 2);
    await config(h, "many", "m", 4);
    const limit = (used: number, delta: number): string =>
      `The account-level service limit 'instances' is 3 Instances, with current utilization of ${used} Instances and a request delta of ${delta} Instances. Raise Sluice's instance limit (ControlPlane option maxInstances) if this machine can take more.`;
    assertError(await h.call("CreateEndpoint", { EndpointName: "big", EndpointConfigName: "many" }), "ResourceLimitExceeded", limit(0, 4));
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "two" });
    await untilStatus(h, "ep", "InService");
    // A rollout runs the new instances beside the old: 2 + 2 > 3.
    assertError(await h.call("UpdateEndpoint", { EndpointName: "ep", EndpointConfigName: "two" }), "ResourceLimitExceeded", limit(2, 2));
    assertError(
      await h.call("UpdateEndpointWeightsAndCapacities", {
        EndpointName: "ep",
        DesiredWeightsAndCapacities: [{ VariantName: "AllTraffic", DesiredInstanceCount: 4 }],
      }),
      "ResourceLimitExceeded",
      limit(2, 2),
    );
    const d = await h.call("DescribeEndpoint", { EndpointName: "ep" });
    assert.equal(d.body.EndpointStatus, "InService");
    assert.equal(d.body.ProductionVariants[0].DesiredInstanceCount, 2);
    assert.deepEqual((await h.call("ListEndpoints")).body.Endpoints.map((e: any) => e.EndpointName), ["ep"]);
  });

  it("deletes an endpoint: Deleting, instances stopped, then gone", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    await config(h, "cfg", "m", 2);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg", Tags: [{ Key: "k", Value: "v" }] });
    await untilStatus(h, "ep", "InService");
    assert.deepEqual((await h.call("DeleteEndpoint", { EndpointName: "ep" })).body, {});
    const status = h.plane.live.getLiveEndpoint("ep")?.status;
    assert.ok(status === undefined || status === "Deleting", status);
    await untilGone(h, "ep");
    assert.equal(h.host.running().length, 0);
    assert.equal(h.plane.live.getLiveEndpoint("ep"), undefined);
    // A new endpoint of the same name starts clean (no tags inherited).
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" });
    assert.deepEqual((await h.call("ListTags", { ResourceArn: arn("endpoint", "ep") })).body.Tags, []);
  });

  it("deletes an endpoint while it is still creating", async (t) => {
    const h = await setup(t);
    await model(h, "m", "fake/never-ready");
    await config(h, "cfg", "m", 1);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" });
    await until2(h, () => h.host.started.length === 1);
    await h.call("DeleteEndpoint", { EndpointName: "ep" });
    await untilGone(h, "ep");
    await h.plane.reconciler.whenIdle();
    assert.equal(h.host.running().length, 0);
  });

  it("sorts and filters ListEndpoints", async (t) => {
    let offset = 0;
    const h = await setup(t, { now: () => Date.now() + offset });
    await model(h, "m");
    await config(h, "cfg", "m");
    for (const name of ["b-ep", "a-ep", "c-ep"]) {
      await h.call("CreateEndpoint", { EndpointName: name, EndpointConfigName: "cfg" });
      offset += 60_000;
    }
    const byName = await h.call("ListEndpoints", { SortBy: "Name", SortOrder: "Ascending", MaxResults: 2 });
    assert.deepEqual(byName.body.Endpoints.map((e: any) => e.EndpointName), ["a-ep", "b-ep"]);
    const rest = await h.call("ListEndpoints", { SortBy: "Name", SortOrder: "Ascending", MaxResults: 2, NextToken: byName.body.NextToken });
    assert.deepEqual(rest.body.Endpoints.map((e: any) => e.EndpointName), ["c-ep"]);
    assert.equal(rest.body.NextToken, undefined);
    const newest = await h.call("ListEndpoints", { MaxResults: 1 });
    assert.deepEqual(newest.body.Endpoints.map((e: any) => e.EndpointName), ["c-ep"]);
    assertError(
      await h.call("ListEndpoints", { NextToken: (await h.call("ListModels", { MaxResults: 1 })).body.NextToken ?? "x" }),
      "ValidationException",
      /Invalid NextToken/,
    );
    assertError(await h.call("ListEndpoints", { StatusEquals: "Running" }), "ValidationException", /enum value set: \[OutOfService, Creating/);
  });
});

describe("tags", () => {
  it("adds, overwrites, lists and deletes tags", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const resource = arn("model", "m");
    const added = await h.call("AddTags", { ResourceArn: resource, Tags: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }] });
    assert.deepEqual(added.body, { Tags: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }] });
    await h.call("AddTags", { ResourceArn: resource, Tags: [{ Key: "a", Value: "3" }] });
    assert.deepEqual((await h.call("ListTags", { ResourceArn: resource })).body, {
      Tags: [{ Key: "a", Value: "3" }, { Key: "b", Value: "2" }],
    });
    assert.deepEqual((await h.call("DeleteTags", { ResourceArn: resource, TagKeys: ["a", "zzz"] })).body, {});
    assert.deepEqual((await h.call("ListTags", { ResourceArn: resource })).body.Tags, [{ Key: "b", Value: "2" }]);
  });

  it("pages ListTags and enforces the 50-tag limit", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const resource = arn("model", "m");
    const tags = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `${i}` }));
    await h.call("AddTags", { ResourceArn: resource, Tags: tags });
    const first = await h.call("ListTags", { ResourceArn: resource, MaxResults: 50 });
    assert.equal(first.body.Tags.length, 50);
    assert.equal(first.body.NextToken, undefined);
    assertError(await h.call("AddTags", { ResourceArn: resource, Tags: [{ Key: "one-more", Value: "x" }] }), "ValidationException", /at most 50/);
    assertError(
      await h.call("ListTags", { ResourceArn: resource, MaxResults: 10 }),
      "ValidationException",
      "1 validation error detected: Value '10' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 50",
    );
    assert.equal((await h.call("ListTags", { ResourceArn: resource })).body.Tags.length, 50);
  });

  // With at most 50 tags and MaxResults at least 50, ListTags never pages; order is what matters.
  it("lists tags in the order they were added, re-added keys last", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    const resource = arn("model", "m");
    const tags = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `${i}` }));
    await h.call("AddTags", { ResourceArn: resource, Tags: tags });
    await h.call("DeleteTags", { ResourceArn: resource, TagKeys: tags.slice(0, 10).map((t) => t.Key) });
    await h.call("AddTags", { ResourceArn: resource, Tags: tags.slice(0, 10) });
    const first = await h.call("ListTags", { ResourceArn: resource, MaxResults: 50 });
    assert.equal(first.body.Tags.length, 50);
    assert.deepEqual(first.body.Tags.slice(0, 2), [{ Key: "k10", Value: "10" }, { Key: "k11", Value: "11" }]);
    assert.deepEqual(first.body.Tags.at(-1), { Key: "k9", Value: "9" });
  });

  it("refuses tags on resources that do not exist or cannot exist here", async (t) => {
    const h = await setup(t);
    assertError(
      await h.call("AddTags", { ResourceArn: arn("endpoint", "nope"), Tags: [{ Key: "a", Value: "b" }] }),
      "ValidationException",
      `Could not find endpoint "${arn("endpoint", "nope")}".`,
    );
    assertError(
      await h.call("ListTags", { ResourceArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/x` }),
      "ValidationException",
      /cannot be tagged by Sluice/,
    );
    assertError(
      await h.call("ListTags", { ResourceArn: "not-an-arn" }),
      "ValidationException",
      /^1 validation error detected: Value 'not-an-arn' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
  });
});

describe("Sluice.ListInstances", () => {
  it("lists every instance with its endpoint, variant, process and state", async (t) => {
    const h = await setup(t);
    await model(h, "m");
    await config(h, "cfg", "m", 2);
    await h.call("CreateEndpoint", { EndpointName: "ep", EndpointConfigName: "cfg" });
    await untilStatus(h, "ep", "InService");
    const res = await h.call("Sluice.ListInstances", {});
    assert.equal(res.status, 200);
    assert.equal(res.body.Instances.length, 2);
    for (const i of res.body.Instances) {
      assert.equal(i.EndpointName, "ep");
      assert.equal(i.VariantName, "AllTraffic");
      assert.match(i.InstanceId, /^ep-AllTraffic-[0-9a-f]{8}$/);
      assert.equal(i.State, "Healthy");
      assert.equal(i.InRotation, true);
      assert.equal(i.ActiveSessions, 0);
      assert.equal(i.Restarts, 0);
      assert.equal(typeof i.Port, "number");
      assert.equal(typeof i.StartedAt, "number");
      assert.ok(i.LogFile.endsWith(join("logs", "ep", `${i.InstanceId}.log`)));
    }
    assert.deepEqual((await h.call("Sluice.ListInstances", { EndpointName: "other" })).body.Instances, []);
  });
});

describe("field policies", () => {
  it("lists every refused member once, each with a reason", async () => {
    const { FIELD_POLICIES } = await import("./unsupported-fields.js");
    const keys = FIELD_POLICIES.map((p) => `${p.operation} ${p.field}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const p of FIELD_POLICIES) assert.ok(p.note.length >= 6, p.field);
  });
});

async function until2<T>(h: Harness, check: () => T | Promise<T>): Promise<NonNullable<T>> {
  const { until } = await import("./test-support/harness.js");
  return until(h.plane, check as () => Promise<NonNullable<T>>) as Promise<NonNullable<T>>;
}

async function untilGone(h: Harness, name: string): Promise<void> {
  await until2(h, async () => (await h.call("DescribeEndpoint", { EndpointName: name })).status === 400);
}
