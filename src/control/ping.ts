// One `GET /ping` against an instance, as SageMaker's health check does: 200 is healthy, anything
// else (another status, a refused connection, no answer within the timeout) is not.

import { request } from "node:http";

export interface PingResult {
  ok: boolean;
  /** What happened, for FailureReason and VariantStatus messages. */
  detail: string;
  /** No answer within the timeout (as opposed to an answer that was not 200, or a refusal). */
  timedOut?: boolean;
}

export function ping(host: string, port: number, timeoutMs: number): Promise<PingResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: PingResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    // No keep-alive agent: a probe must open its own connection, or a pooled socket could hide
    // an instance that stopped accepting new ones.
    const req = request({ host, port, path: "/ping", method: "GET", agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      done({ ok: status === 200, detail: `GET /ping answered ${status}` });
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, detail: `GET /ping did not answer within ${timeoutMs} ms`, timedOut: true });
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => done({ ok: false, detail: `GET /ping failed: ${err.code ?? err.message}` }));
    req.end();
  });
}
