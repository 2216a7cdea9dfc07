// Issue 2 scope 4: every control-plane error in AWS shape, over HTTP, with its type, status and
// message; and none of them changes what is stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateEndpointCommand,
  ListModelsCommand,
  waitUntilEndpointInService,
} from "@aws-sdk/client-sagemaker";
import { ACCOUNT, rawCall, REGION, sagemaker, type RawCallOptions } from "./helpers/control.js";
import { startSluice, TEST_KEY, type SluiceProcess } from "./helpers/sluice.js";

const arn = (kind: string, name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;
const MiB = 1024 * 1024;

interface ErrorCase {
  name: string;
  target: string;
  body: unknown;
  options?: RawCallOptions;
  status: number;
  type: string;
  message: string | RegExp;
}

const echo = { Image: "sluice/echo" };
const variant = (extra: Record<string, unknown> = {}) => ({ VariantName: "AllTraffic", ModelName: "keep-model", InitialInstanceCount: 1, InstanceType: "ml.m5.large", ...extra });

const CASES: ErrorCase[] = [
  {
    name: "malformed JSON is a SerializationException",
    target: "SageMaker.CreateModel",
    body: '{"ModelName": "half-written", "PrimaryContainer": {',
    status: 400,
    type: "SerializationException",
    message: /^The request body is not valid JSON: \S/,
  },
  {
    name: "a JSON body that is not an object is a SerializationException",
    target: "SageMaker.CreateModel",
    body: '["ModelName"]',
    status: 400,
    type: "SerializationException",
    message: "The request body must be a JSON object.",
  },
  {
    name: "a member of the wrong JSON type is a SerializationException",
    target: "SageMaker.CreateModel",
    body: { ModelName: 5, PrimaryContainer: echo },
    status: 400,
    type: "SerializationException",
    message: "Value 5 at 'modelName' is a number; expected a string",
  },
  {
    name: "a missing required member is a ValidationException naming it",
    target: "SageMaker.CreateModel",
    body: { PrimaryContainer: echo },
    status: 400,
    type: "ValidationException",
    message: "1 validation error detected: Value null at 'modelName' failed to satisfy constraint: Member must not be null",
  },
  {
    name: "every missing nested member is listed, with its SageMaker path",
    target: "SageMaker.CreateEndpointConfig",
    body: { EndpointConfigName: "new-config", ProductionVariants: [{ VariantName: "AllTraffic" }] },
    status: 400,
    type: "ValidationException",
    message:
      "2 validation errors detected: Value null at 'productionVariants.1.member.modelName' failed to satisfy constraint: Member must not be null; " +
      "Value null at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must not be null",
  },
  {
    name: "a value over its length limit is a ValidationException",
    target: "SageMaker.CreateModel",
    body: { ModelName: "m".repeat(64), PrimaryContainer: echo },
    status: 400,
    type: "ValidationException",
    message: `1 validation error detected: Value '${"m".repeat(64)}' at 'modelName' failed to satisfy constraint: Member must have length less than or equal to 63`,
  },
  {
    name: "a number under its minimum is a ValidationException",
    target: "SageMaker.ListEndpoints",
    body: { MaxResults: 0 },
    status: 400,
    type: "ValidationException",
    message: "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
  },
  {
    name: "a value off its pattern is a ValidationException quoting the pattern",
    target: "SageMaker.CreateModel",
    body: { ModelName: "bad_name!", PrimaryContainer: echo },
    status: 400,
    type: "ValidationException",
    message:
      "1 validation error detected: Value 'bad_name!' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?",
  },
  {
    name: "a value outside its enum is a ValidationException listing the values",
    target: "SageMaker.ListEndpoints",
    body: { SortBy: "Size" },
    status: 400,
    type: "ValidationException",
    message: "1 validation error detected: Value 'Size' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime, Status]",
  },
  {
    name: "a NextToken no list returned is a ValidationException",
    target: "SageMaker.ListModels",
    body: { NextToken: "not-a-token" },
    status: 400,
    type: "ValidationException",
    message: "Invalid NextToken: it was not returned by a previous ListModels call.",
  },
  {
    name: "an unknown operation is an UnknownOperationException",
    target: "SageMaker.CreateTrainingJob",
    body: {},
    status: 400,
    type: "UnknownOperationException",
    message: 'Unknown operation "SageMaker.CreateTrainingJob".',
  },
  {
    name: "a body over 1 MiB is refused with 413 before it is parsed",
    target: "SageMaker.CreateModel",
    body: { ModelName: "huge-model", PrimaryContainer: { Image: "sluice/echo", Environment: { BLOB: "x".repeat(MiB) } } },
    status: 413,
    type: "RequestEntityTooLarge",
    message: /^A control-plane request body of \d+ bytes or more is over the limit of 1048576 bytes\.$/,
  },
  {
    name: "a chunked body over 1 MiB is refused with 413 too",
    target: "SageMaker.CreateModel",
    body: { ModelName: "huge-model", PrimaryContainer: { Image: "sluice/echo", Environment: { BLOB: "x".repeat(MiB) } } },
    options: { chunked: true },
    status: 413,
    type: "RequestEntityTooLarge",
    message: /^A control-plane request body of \d+ bytes or more is over the limit of 1048576 bytes\.$/,
  },
  {
    name: "a wrong content type is refused",
    target: "SageMaker.ListModels",
    body: {},
    options: { contentType: "text/plain" },
    status: 415,
    type: "UnsupportedMediaTypeException",
    message: 'Content-Type must be application/x-amz-json-1.1, not "text/plain".',
  },
  {
    name: "DescribeEndpoint of an unknown endpoint says it could not find the ARN",
    target: "SageMaker.DescribeEndpoint",
    body: { EndpointName: "No-Such-Endpoint" },
    status: 400,
    type: "ValidationException",
    message: `Could not find endpoint "${arn("endpoint", "no-such-endpoint")}".`,
  },
  {
    name: "DescribeEndpointConfig of an unknown config says it could not find the ARN",
    target: "SageMaker.DescribeEndpointConfig",
    body: { EndpointConfigName: "no-such-config" },
    status: 400,
    type: "ValidationException",
    message: `Could not find endpoint configuration "${arn("endpoint-config", "no-such-config")}".`,
  },
  {
    name: "DescribeModel of an unknown model says it could not find the ARN",
    target: "SageMaker.DescribeModel",
    body: { ModelName: "no-such-model" },
    status: 400,
    type: "ValidationException",
    message: `Could not find model "${arn("model", "no-such-model")}".`,
  },
  {
    name: "DeleteEndpoint of an unknown endpoint says it could not find the ARN",
    target: "SageMaker.DeleteEndpoint",
    body: { EndpointName: "no-such-endpoint" },
    status: 400,
    type: "ValidationException",
    message: `Could not find endpoint "${arn("endpoint", "no-such-endpoint")}".`,
  },
  {
    name: "CreateEndpointConfig naming an unknown model stores nothing",
    target: "SageMaker.CreateEndpointConfig",
    body: { EndpointConfigName: "orphan-config", ProductionVariants: [variant({ ModelName: "no-such-model" })] },
    status: 400,
    type: "ValidationException",
    message: `Could not find model "${arn("model", "no-such-model")}".`,
  },
  {
    name: "CreateEndpoint naming an unknown config stores nothing, tags included",
    target: "SageMaker.CreateEndpoint",
    body: { EndpointName: "orphan-endpoint", EndpointConfigName: "no-such-config", Tags: [{ Key: "team", Value: "speech" }] },
    status: 400,
    type: "ValidationException",
    message: `Could not find endpoint configuration "${arn("endpoint-config", "no-such-config")}".`,
  },
  {
    name: "creating an existing model (another case of its name) is refused with its ARN",
    target: "SageMaker.CreateModel",
    body: { ModelName: "KEEP-model", PrimaryContainer: { Image: "sluice/echo", Environment: { CHANGED: "yes" } } },
    status: 400,
    type: "ValidationException",
    message: `Cannot create already existing model "${arn("model", "keep-model")}".`,
  },
  {
    name: "creating an existing endpoint config is refused with its ARN",
    target: "SageMaker.CreateEndpointConfig",
    body: { EndpointConfigName: "keep-config", ProductionVariants: [variant({ InitialInstanceCount: 3 })] },
    status: 400,
    type: "ValidationException",
    message: `Cannot create already existing endpoint configuration "${arn("endpoint-config", "keep-config")}".`,
  },
  {
    name: "creating an existing endpoint is refused with its ARN",
    target: "SageMaker.CreateEndpoint",
    body: { EndpointName: "keep-endpoint", EndpointConfigName: "keep-config" },
    status: 400,
    type: "ValidationException",
    message: `Cannot create already existing endpoint "${arn("endpoint", "keep-endpoint")}".`,
  },
  {
    name: "an s3:// ModelDataUrl is refused: there is no S3",
    target: "SageMaker.CreateModel",
    body: { ModelName: "s3-model", PrimaryContainer: { Image: "sluice/echo", ModelDataUrl: "s3://my-bucket/model.tar.gz" } },
    status: 400,
    type: "ValidationException",
    message: 'ModelDataUrl "s3://my-bucket/model.tar.gz" is an S3 URL; Sluice has no S3. Copy the model data to this machine and give its absolute path or a file:// URL.',
  },
  {
    name: "a ModelDataUrl that does not exist is refused",
    target: "SageMaker.CreateModel",
    body: { ModelName: "missing-data-model", PrimaryContainer: { Image: "sluice/echo", ModelDataUrl: "file:///no/such/sluice/model-data" } },
    status: 400,
    type: "ValidationException",
    message: 'ModelDataUrl "file:///no/such/sluice/model-data" does not exist on this machine.',
  },
  {
    name: "an image under the reserved sluice/ prefix that is not a bundled model is refused",
    target: "SageMaker.CreateModel",
    body: { ModelName: "reserved-model", PrimaryContainer: { Image: "sluice/whisper" } },
    status: 400,
    type: "ValidationException",
    message: 'Image "sluice/whisper" is not a Sluice model: the sluice/ prefix is reserved for sluice/echo and sluice/transcribe.',
  },
  {
    name: "an unsupported top-level member is refused by name",
    target: "SageMaker.CreateEndpointConfig",
    body: { EndpointConfigName: "async-config", ProductionVariants: [variant()], AsyncInferenceConfig: { OutputConfig: { S3OutputPath: "s3://b/out" } } },
    status: 400,
    type: "ValidationException",
    message: "AsyncInferenceConfig is not supported by Sluice (asynchronous inference is not supported).",
  },
  {
    name: "an unsupported variant member is refused by name",
    target: "SageMaker.CreateEndpointConfig",
    body: {
      EndpointConfigName: "serverless-config",
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "keep-model", ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } }],
    },
    status: 400,
    type: "ValidationException",
    message: "ProductionVariants.ServerlessConfig is not supported by Sluice (give InitialInstanceCount instead).",
  },
  {
    name: "an unsupported container member is refused by name",
    target: "SageMaker.CreateModel",
    body: { ModelName: "mme-model", PrimaryContainer: { Image: "sluice/echo", MultiModelConfig: { ModelCacheSetting: "Enabled" } } },
    status: 400,
    type: "ValidationException",
    message: "PrimaryContainer.MultiModelConfig is not supported by Sluice (multi-model endpoints are not supported).",
  },
  {
    name: "an unsigned request is 403 MissingAuthenticationTokenException",
    target: "SageMaker.CreateModel",
    body: { ModelName: "unsigned-model", PrimaryContainer: echo },
    options: { sign: false },
    status: 403,
    type: "MissingAuthenticationTokenException",
    message: "Missing Authentication Token",
  },
  {
    name: "a request signed with the wrong secret is 403 InvalidSignatureException",
    target: "SageMaker.CreateModel",
    body: { ModelName: "forged-model", PrimaryContainer: echo },
    options: { sign: { accessKeyId: TEST_KEY.accessKeyId, secretAccessKey: "not-the-secret" } },
    status: 403,
    type: "InvalidSignatureException",
    message:
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  },
  {
    name: "a request signed with an unknown key is 403 UnrecognizedClientException",
    target: "SageMaker.CreateModel",
    body: { ModelName: "stranger-model", PrimaryContainer: echo },
    options: { sign: { accessKeyId: "AKSLNOSUCHKEY0000000", secretAccessKey: "whatever" } },
    status: 403,
    type: "UnrecognizedClientException",
    message: "The security token included in the request is invalid.",
  },
];

describe("control-plane errors in AWS shape, none of which changes stored state", () => {
  let sluice: SluiceProcess;

  /** Everything a failed call could have touched, read through the API. */
  async function snapshot(): Promise<unknown> {
    const call = async (target: string, body: unknown) => {
      const r = await rawCall(sluice.url, target, JSON.stringify(body));
      assert.equal(r.status, 200, `${target}: ${r.text}`);
      return r.json;
    };
    const endpoint = (await call("SageMaker.DescribeEndpoint", { EndpointName: "keep-endpoint" })) as Record<string, unknown>;
    return {
      models: await call("SageMaker.ListModels", { MaxResults: 100 }),
      configs: await call("SageMaker.ListEndpointConfigs", { MaxResults: 100 }),
      endpoints: await call("SageMaker.ListEndpoints", { MaxResults: 100 }),
      model: await call("SageMaker.DescribeModel", { ModelName: "keep-model" }),
      config: await call("SageMaker.DescribeEndpointConfig", { EndpointConfigName: "keep-config" }),
      endpoint: { ...endpoint, ProductionVariants: undefined },
      variants: (endpoint.ProductionVariants as Record<string, unknown>[]).map((v) => [v.VariantName, v.DesiredInstanceCount, v.DesiredWeight]),
      tags: await call("SageMaker.ListTags", { ResourceArn: arn("model", "keep-model") }),
      endpointTags: await call("SageMaker.ListTags", { ResourceArn: arn("endpoint", "keep-endpoint") }),
    };
  }

  before(async () => {
    sluice = await startSluice();
    const sm = sagemaker(sluice);
    const ok = async (target: string, body: unknown) => {
      const r = await rawCall(sluice.url, target, JSON.stringify(body));
      assert.equal(r.status, 200, `${target}: ${r.text}`);
    };
    await ok("SageMaker.CreateModel", { ModelName: "keep-model", PrimaryContainer: echo, Tags: [{ Key: "owner", Value: "tests" }] });
    await ok("SageMaker.CreateEndpointConfig", { EndpointConfigName: "keep-config", ProductionVariants: [variant()] });
    await sm.send(new CreateEndpointCommand({ EndpointName: "keep-endpoint", EndpointConfigName: "keep-config", Tags: [{ Key: "tier", Value: "gold" }] }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { EndpointName: "keep-endpoint" });
  });
  after(async () => {
    await sluice?.cleanup();
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const before = await snapshot();
      const body = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
      const r = await rawCall(sluice.url, c.target, body, c.options);
      assert.equal(r.status, c.status, r.text);
      assert.ok(r.json !== undefined, `a JSON body: ${r.text.slice(0, 200)}`);
      assert.equal(r.json.__type, c.type);
      if (typeof c.message === "string") assert.equal(r.json.Message, c.message);
      else assert.match(String(r.json.Message), c.message);
      assert.equal(r.headers["content-type"], "application/x-amz-json-1.1");
      assert.match(String(r.headers["x-amzn-requestid"]), /^[0-9a-f-]{36}$/);
      assert.deepEqual(await snapshot(), before);
    });
  }

  it("the AWS SDK surfaces authentication errors by type and status", async () => {
    const cases = [
      { credentials: { accessKeyId: TEST_KEY.accessKeyId, secretAccessKey: "not-the-secret" }, name: "InvalidSignatureException" },
      { credentials: { accessKeyId: "AKSLNOSUCHKEY0000000", secretAccessKey: "whatever" }, name: "UnrecognizedClientException" },
    ];
    for (const { credentials, name } of cases) {
      await assert.rejects(sagemaker(sluice, credentials).send(new ListModelsCommand({})), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, name);
        assert.equal(err.$metadata?.httpStatusCode, 403);
        return true;
      });
    }
  });

  it("the AWS SDK surfaces already-exists as a ValidationException with SageMaker's wording", async () => {
    await assert.rejects(sagemaker(sluice).send(new CreateEndpointCommand({ EndpointName: "Keep-Endpoint", EndpointConfigName: "keep-config" })), {
      name: "ValidationException",
      message: `Cannot create already existing endpoint "${arn("endpoint", "keep-endpoint")}".`,
    });
  });
});
