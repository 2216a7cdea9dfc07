// `npm start` (`--deploy-examples`): the example endpoints, deployed through the control plane
// like any client would, unless they already exist (a restart keeps what was deployed).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ControlPlane } from "../control/index.js";
import { findRepoRoot } from "../hosting/repo-root.js";

interface Example {
  name: string;
  image: string;
  /** The compiled model must exist for the example to run. */
  program: string;
}

const EXAMPLES: Example[] = [
  { name: "echo", image: "sluice/echo", program: "dist/models/echo/main.js" },
  { name: "transcribe", image: "sluice/transcribe", program: "dist/models/transcribe/main.js" },
];

export async function deployExamples(plane: ControlPlane, region: string, log: Logger): Promise<string[]> {
  const root = findRepoRoot();
  const deployed: string[] = [];
  for (const ex of EXAMPLES) {
    if (!existsSync(join(root, ex.program))) {
      log.warn({ example: ex.name }, `example ${ex.name} is not built (${ex.program} missing); skipped`);
      continue;
    }
    const call = async (op: string, input: unknown) => {
      const out = await plane.handle({ target: `SageMaker.${op}`, body: Buffer.from(JSON.stringify(input)), region, requestId: `examples-${ex.name}` });
      return out;
    };
    const existing = await call("DescribeEndpoint", { EndpointName: ex.name });
    if (existing.status === 200) {
      deployed.push(ex.name);
      continue;
    }
    const steps: [string, unknown][] = [
      ["CreateModel", { ModelName: `${ex.name}-model`, PrimaryContainer: { Image: ex.image } }],
      [
        "CreateEndpointConfig",
        {
          EndpointConfigName: `${ex.name}-config`,
          ProductionVariants: [{ VariantName: "AllTraffic", ModelName: `${ex.name}-model`, InitialInstanceCount: 1, InstanceType: "ml.m5.large" }],
        },
      ],
      ["CreateEndpoint", { EndpointName: ex.name, EndpointConfigName: `${ex.name}-config` }],
    ];
    for (const [op, input] of steps) {
      const out = await call(op, input);
      // A model or config left by an earlier start is fine: the endpoint is what was missing.
      const body = out.body as { Message?: string };
      if (out.status !== 200 && !/already existing/.test(body.Message ?? "")) {
        log.error({ example: ex.name, op, error: out.body }, "could not deploy example");
        break;
      }
    }
    deployed.push(ex.name);
  }
  return deployed;
}
