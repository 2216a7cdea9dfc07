// The runtime serves HTTP/1.1 and HTTP/2 (compat API) requests alike.
import type * as http from "node:http";
import type * as http2 from "node:http2";

export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;
