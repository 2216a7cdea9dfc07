// Where the Docker Engine API is: `--docker-host` / `DOCKER_HOST` in Docker's own notation, so the
// same value works for the docker CLI, Podman's compat socket and Sluice.

import Docker from "dockerode";

export type DockerEndpoint = { socketPath: string } | { protocol: "http"; host: string; port: number };

/**
 * `unix:///run/podman/podman.sock` or `/run/podman/podman.sock` → a socket; `tcp://host:2375` →
 * plain HTTP (TLS endpoints need certificates Sluice does not manage: use a socket). Anything else
 * is a configuration error worth failing the start for.
 */
export function parseDockerHost(value: string): DockerEndpoint {
  const v = value.trim();
  if (v.startsWith("unix://")) {
    const path = v.slice("unix://".length);
    if (!path.startsWith("/")) throw new Error(`DOCKER_HOST ${value}: a unix socket needs an absolute path (unix:///path)`);
    return { socketPath: path };
  }
  if (v.startsWith("/")) return { socketPath: v };
  if (v.startsWith("tcp://") || v.startsWith("http://")) {
    const url = new URL(v.replace(/^tcp:/, "http:"));
    return { protocol: "http", host: url.hostname, port: url.port === "" ? 2375 : Number(url.port) };
  }
  throw new Error(`DOCKER_HOST ${value} is not understood: use unix:///path/to/socket, an absolute socket path, or tcp://host:port`);
}

/** A dockerode client for an endpoint (a socket path or DOCKER_HOST-style string). */
export function dockerClient(endpoint: string | DockerEndpoint): Docker {
  const e = typeof endpoint === "string" ? parseDockerHost(endpoint) : endpoint;
  return new Docker(e);
}
