// The command object, shaped like AWS's: construct it with the input, hand it to `client.send`.

import type { InvokeEndpointWithBidirectionalStreamInput } from "./types.js";

export class InvokeEndpointWithBidirectionalStreamCommand {
  readonly input: InvokeEndpointWithBidirectionalStreamInput;

  constructor(input: InvokeEndpointWithBidirectionalStreamInput) {
    this.input = input;
  }
}
