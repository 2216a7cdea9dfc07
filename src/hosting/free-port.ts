// Picks a port for a new instance by letting the kernel choose one and releasing it. Another
// process can take it before the instance binds; the process host notices (EADDRINUSE) and
// retries on a new port, so this needs to be likely free, not guaranteed.

import { createServer } from "node:net";

/** Chooses a port for an instance; injectable so tests can hand out a port that is taken. */
export type PortChooser = () => Promise<number>;

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
