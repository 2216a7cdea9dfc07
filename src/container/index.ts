// sluice/container: the toolkit model authors reuse to serve the SageMaker container contract.
export {
  runModelServer,
  startModelServer,
  type ModelServer,
  type ModelServerOptions,
  type WebSocketRequest,
} from "./model-server.js";
