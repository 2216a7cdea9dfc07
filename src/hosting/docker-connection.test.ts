import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDockerHost } from "./docker-connection.js";

test("DOCKER_HOST values in Docker's notation", () => {
  assert.deepEqual(parseDockerHost("unix:///run/podman/podman.sock"), { socketPath: "/run/podman/podman.sock" });
  assert.deepEqual(parseDockerHost("/var/run/docker.sock"), { socketPath: "/var/run/docker.sock" });
  assert.deepEqual(parseDockerHost("tcp://127.0.0.1:2375"), { protocol: "http", host: "127.0.0.1", port: 2375 });
  assert.deepEqual(parseDockerHost("tcp://docker.internal"), { protocol: "http", host: "docker.internal", port: 2375 });
});

test("values that cannot name an engine are refused with what to write instead", () => {
  for (const bad of ["unix://relative.sock", "ssh://user@host", "podman.sock", ""]) {
    assert.throws(() => parseDockerHost(bad), /unix:\/\/\//, bad);
  }
});
