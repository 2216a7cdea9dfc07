// SageMakerRuntimeHTTP2Client: the same construction and `send` shape as AWS's client of that
// name, for Sluice (or SageMaker itself). Differences, on purpose: one HTTP/2 session per client
// is shared by concurrent streams (AWS's opens one per stream), TLS options are passed as
// `tls`, and event objects handed to `Body` are never modified.

import { credentialResolver, regionResolver, type AwsCredentialIdentity, type AwsCredentialIdentityProvider } from "./credentials.js";
import { Http2SessionPool, type TlsOptions } from "./http2-session.js";
import { invokeBidirectionalStream } from "./invoke-bidirectional-stream.js";
import { InvokeEndpointWithBidirectionalStreamCommand } from "./commands.js";
import type { InvokeEndpointWithBidirectionalStreamOutput } from "./types.js";

export interface SageMakerRuntimeHTTP2ClientConfig {
  /** Signing region; defaults to AWS_REGION / AWS_DEFAULT_REGION. */
  region?: string | (() => Promise<string>);
  /** e.g. `http://127.0.0.1:8443` (h2c) or `https://host:8443` (TLS, ALPN h2). Defaults to
   * SageMaker's `https://runtime.sagemaker.{region}.amazonaws.com:8443`. */
  endpoint?: string | URL;
  /** Static credentials or an async provider; defaults to AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** TLS options for `https://` endpoints, e.g. `{ ca }` to trust a self-signed Sluice. */
  tls?: TlsOptions;
}

export interface SendOptions {
  /** Aborting cancels the stream: `send` rejects, or the response iterator throws, an AbortError. */
  abortSignal?: AbortSignal;
}

export class SageMakerRuntimeHTTP2Client {
  /** The configuration, minus the credentials (kept out so logging a client leaks no secret). */
  readonly config: Readonly<Omit<SageMakerRuntimeHTTP2ClientConfig, "credentials">>;
  readonly #region: () => Promise<string>;
  readonly #credentials: () => Promise<AwsCredentialIdentity>;
  #pool: { endpoint: URL; pool: Http2SessionPool } | undefined;
  #destroyed = false;

  constructor(config: SageMakerRuntimeHTTP2ClientConfig = {}) {
    const { credentials: _credentials, ...rest } = config;
    this.config = rest;
    this.#region = regionResolver(config.region);
    this.#credentials = credentialResolver(config.credentials);
    if (config.endpoint !== undefined) this.#pool = this.#createPool(new URL(config.endpoint));
  }

  async send(
    command: InvokeEndpointWithBidirectionalStreamCommand,
    options: SendOptions = {},
  ): Promise<InvokeEndpointWithBidirectionalStreamOutput> {
    if (!(command instanceof InvokeEndpointWithBidirectionalStreamCommand)) {
      throw new TypeError("This client supports InvokeEndpointWithBidirectionalStreamCommand only");
    }
    if (this.#destroyed) throw new Error("The client has been destroyed");
    const [region, credentials] = await Promise.all([this.#region(), this.#credentials()]);
    this.#pool ??= this.#createPool(new URL(`https://runtime.sagemaker.${region}.amazonaws.com:8443`));
    const { endpoint, pool } = this.#pool;
    return invokeBidirectionalStream({ pool, endpoint, region, credentials }, command.input, options.abortSignal);
  }

  /** Closes the HTTP/2 session; streams still open are cancelled. */
  destroy(): void {
    this.#destroyed = true;
    this.#pool?.pool.destroy();
  }

  #createPool(endpoint: URL): { endpoint: URL; pool: Http2SessionPool } {
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
      throw new TypeError(`endpoint must be an http:// or https:// URL, got ${endpoint.protocol}`);
    }
    return { endpoint, pool: new Http2SessionPool(endpoint, this.config.tls) };
  }
}
