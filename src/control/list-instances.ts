// `Sluice.ListInstances`: an extension operation in the same AWS JSON 1.1 protocol
// (X-Amz-Target: Sluice.ListInstances, signed like any SageMaker call), serving
// `sluice instances`. See README.md beside this file for its shape.

import type { OperationContext } from "./context.js";
import { paginate } from "./pagination.js";
import { ListInstancesInput } from "./shapes.js";
import { validateInput } from "./validate.js";

export function listInstances(ctx: OperationContext, raw: Record<string, unknown>): unknown {
  const input = validateInput<{ EndpointName?: string; NextToken?: string; MaxResults?: number }>(
    ListInstancesInput,
    raw,
  );
  const page = paginate({
    operation: "Sluice.ListInstances",
    items: ctx.reconciler.listInstances(input.EndpointName),
    sortKey: (i) => [i.endpointName.toLowerCase(), i.variantName, i.startedAt.getTime(), i.instanceId],
    descending: false,
    maxResults: input.MaxResults ?? 100,
    nextToken: input.NextToken,
  });
  return {
    Instances: page.items.map((i) => ({
      EndpointName: i.endpointName,
      VariantName: i.variantName,
      InstanceId: i.instanceId,
      ...(i.pid !== undefined ? { Pid: i.pid } : {}),
      ...(i.containerId !== undefined ? { ContainerId: i.containerId } : {}),
      Host: i.host,
      Port: i.port,
      State: i.state,
      InRotation: i.inRotation,
      ActiveSessions: ctx.drainer.activeSessions(i.instanceId),
      Restarts: i.restarts,
      StartedAt: i.startedAt.getTime() / 1000,
      LogFile: i.logFile,
    })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}
