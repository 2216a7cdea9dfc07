// The SageMaker control plane behind one transport-agnostic entry. The server has already
// checked method, path, content type, body size and signature; this parses the AWS JSON 1.1
// body, dispatches on X-Amz-Target and turns every failure into an AWS error body. Nothing a
// failed call did is left in the store: handlers validate first and write last, in one
// transaction.

import { join } from "node:path";
import { AwsError, isAwsError } from "../protocol/aws-error.js";
import type { OperationContext, OperationHandler } from "./context.js";
import {
  createEndpointConfig,
  deleteEndpointConfig,
  describeEndpointConfig,
  listEndpointConfigs,
} from "./endpoint-configs.js";
import {
  createEndpoint,
  deleteEndpoint,
  describeEndpoint,
  listEndpoints,
  updateEndpoint,
  updateEndpointWeightsAndCapacities,
} from "./endpoints.js";
import type { HostResolver } from "./image.js";
import { listInstances } from "./list-instances.js";
import type { LiveStateReader } from "./live-state.js";
import { silentLogger, type ControlLogger } from "./logger.js";
import { createModel, deleteModel, describeModel, listModels } from "./models.js";
import { Reconciler, type ReconcilerOptions } from "./reconciler.js";
import { noSessionDrainer, type SessionDrainer } from "./session-drainer.js";
import { Store } from "./store.js";
import { addTags, deleteTags, listTags } from "./tags.js";
import { isPlainObject } from "./validate.js";

export const DEFAULT_ACCOUNT_ID = "000000000000";
export const DEFAULT_REGION = "us-east-1";
export const DEFAULT_MAX_INSTANCES = 64;

export interface ControlRequest {
  /** The X-Amz-Target header, e.g. `SageMaker.CreateEndpoint` or `Sluice.ListInstances`. */
  target: string;
  body: Buffer;
  /** Signing region (DESIGN §1); the region of ARNs this request creates. */
  region?: string;
  requestId: string;
}

export interface ControlResponse {
  status: number;
  /** JSON-serializable; errors are `{"__type", "Message", "message"}`. */
  body: unknown;
}

export interface ControlPlaneOptions
  extends Omit<ReconcilerOptions, "store" | "hosts" | "dataDir" | "drainer" | "logger" | "now"> {
  /** `<dataDir>/sluice.db` holds the state, `<dataDir>/logs/` the instance logs. */
  dataDir: string;
  hosts: HostResolver;
  /** 12 digits, the account in every ARN. Default `000000000000`. */
  accountId?: string;
  /**
   * How many instances all endpoints together may ask for; more is ResourceLimitExceeded, like
   * SageMaker's account quota, so a typo in InitialInstanceCount cannot fork-bomb the machine.
   * Default 64.
   */
  maxInstances?: number;
  drainer?: SessionDrainer;
  logger?: ControlLogger;
  /** Epoch milliseconds; replaceable for tests. */
  now?: () => number;
}

const OPERATIONS: Record<string, OperationHandler> = {
  "SageMaker.CreateModel": createModel,
  "SageMaker.DescribeModel": describeModel,
  "SageMaker.ListModels": listModels,
  "SageMaker.DeleteModel": deleteModel,
  "SageMaker.CreateEndpointConfig": createEndpointConfig,
  "SageMaker.DescribeEndpointConfig": describeEndpointConfig,
  "SageMaker.ListEndpointConfigs": listEndpointConfigs,
  "SageMaker.DeleteEndpointConfig": deleteEndpointConfig,
  "SageMaker.CreateEndpoint": createEndpoint,
  "SageMaker.DescribeEndpoint": describeEndpoint,
  "SageMaker.ListEndpoints": listEndpoints,
  "SageMaker.UpdateEndpoint": updateEndpoint,
  "SageMaker.UpdateEndpointWeightsAndCapacities": updateEndpointWeightsAndCapacities,
  "SageMaker.DeleteEndpoint": deleteEndpoint,
  "SageMaker.AddTags": addTags,
  "SageMaker.ListTags": listTags,
  "SageMaker.DeleteTags": deleteTags,
  "Sluice.ListInstances": listInstances,
};

export const SUPPORTED_TARGETS: readonly string[] = Object.keys(OPERATIONS);

export class ControlPlane {
  readonly store: Store;
  readonly reconciler: Reconciler;
  /** What the runtime and routing read. */
  readonly live: LiveStateReader;
  private readonly hosts: HostResolver;
  private readonly drainer: SessionDrainer;
  private readonly accountId: string;
  private readonly log: ControlLogger;
  private readonly nowMs: () => number;
  private readonly dataDir: string;
  private readonly maxInstances: number;

  private constructor(options: ControlPlaneOptions, store: Store) {
    this.store = store;
    this.dataDir = options.dataDir;
    this.maxInstances = options.maxInstances ?? DEFAULT_MAX_INSTANCES;
    this.hosts = options.hosts;
    this.drainer = options.drainer ?? noSessionDrainer;
    this.accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    if (!/^[0-9]{12}$/.test(this.accountId)) throw new Error(`account id must be 12 digits, got "${this.accountId}"`);
    this.log = options.logger ?? silentLogger;
    this.nowMs = options.now ?? Date.now;
    this.reconciler = new Reconciler({
      ...options,
      store,
      dataDir: options.dataDir,
      drainer: this.drainer,
      logger: this.log,
      now: this.nowMs,
    });
    this.live = this.reconciler;
  }

  /** Opens the store, reaps the previous run's leftovers and resumes every endpoint. */
  static async open(options: ControlPlaneOptions): Promise<ControlPlane> {
    const store = Store.open(options.dataDir);
    const plane = new ControlPlane(options, store);
    try {
      await plane.reconciler.start();
    } catch (err) {
      await plane.reconciler.close();
      store.close();
      throw err;
    }
    return plane;
  }

  /** Where the endpoint's instance logs live: `<dataDir>/logs/<endpoint>/<instanceId>.log`. */
  logDir(endpointName: string): string {
    return join(this.dataDir, "logs", endpointName);
  }

  async handle(req: ControlRequest): Promise<ControlResponse> {
    const handler = Object.hasOwn(OPERATIONS, req.target) ? OPERATIONS[req.target] : undefined;
    if (handler === undefined) {
      return error(new AwsError("UnknownOperationException", 400, `Unknown operation ${JSON.stringify(req.target)}.`));
    }
    let input: unknown;
    try {
      const text = req.body.toString("utf8");
      // AWS SDKs always send at least `{}`; an empty body means the same.
      input = text.trim() === "" ? {} : JSON.parse(text);
    } catch (err) {
      return error(new AwsError("SerializationException", 400, `The request body is not valid JSON: ${(err as Error).message}`));
    }
    if (!isPlainObject(input)) {
      return error(new AwsError("SerializationException", 400, "The request body must be a JSON object."));
    }
    const region = req.region ?? DEFAULT_REGION;
    if (!/^[a-z0-9-]{1,64}$/.test(region)) {
      // It becomes part of every ARN this request creates; ARN patterns allow nothing else.
      return error(new AwsError("ValidationException", 400, `"${region.slice(0, 64)}" is not a valid region name.`));
    }
    const ctx: OperationContext = {
      store: this.store,
      hosts: this.hosts,
      reconciler: this.reconciler,
      drainer: this.drainer,
      accountId: this.accountId,
      region,
      requestId: req.requestId,
      maxInstances: this.maxInstances,
      now: () => this.nowMs() / 1000,
    };
    try {
      const body = await handler(ctx, input);
      return { status: 200, body: body ?? {} };
    } catch (err) {
      if (isAwsError(err)) return error(err);
      this.log.error({ err, requestId: req.requestId, target: req.target }, "control-plane operation failed");
      return error(
        new AwsError("InternalFailure", 500, `Sluice failed to process the request (request id ${req.requestId}).`),
      );
    }
  }

  /** Stops every instance (sessions drained first) and closes the database. */
  async close(): Promise<void> {
    await this.reconciler.close();
    this.store.close();
  }
}

function error(err: AwsError): ControlResponse {
  return { status: err.status, body: err.toJSON() };
}
