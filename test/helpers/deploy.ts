// Deploys an endpoint through the real AWS SDK for SageMaker, as a user would.
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  SageMakerClient,
  waitUntilEndpointInService,
} from "@aws-sdk/client-sagemaker";
import { TEST_KEY } from "./sluice.js";

export function sagemaker(url: string, region = "us-east-1", credentials = TEST_KEY): SageMakerClient {
  return new SageMakerClient({ endpoint: url, region, credentials, maxAttempts: 1 });
}

export interface DeployOptions {
  image?: string;
  instances?: number;
  variants?: { name: string; weight?: number; instances?: number; image?: string }[];
  environment?: Record<string, string>;
  modelDataUrl?: string;
}

export async function deployEndpoint(url: string, name: string, options: DeployOptions = {}): Promise<void> {
  const sm = sagemaker(url);
  const variants = options.variants ?? [{ name: "AllTraffic", instances: options.instances ?? 1 }];
  for (const v of variants) {
    await sm.send(
      new CreateModelCommand({
        ModelName: `${name}-${v.name}-model`,
        PrimaryContainer: { Image: v.image ?? options.image ?? "sluice/echo", Environment: options.environment, ModelDataUrl: options.modelDataUrl },
      }),
    );
  }
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: variants.map((v) => ({
        VariantName: v.name,
        ModelName: `${name}-${v.name}-model`,
        InitialInstanceCount: v.instances ?? 1,
        InitialVariantWeight: v.weight ?? 1,
        InstanceType: "ml.m5.large",
      })),
    }),
  );
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { EndpointName: name });
  sm.destroy();
}
