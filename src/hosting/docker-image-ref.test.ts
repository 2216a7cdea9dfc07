import { test } from "node:test";
import assert from "node:assert/strict";
import { isContainerImageReference } from "./docker-image-ref.js";

test("container image references in Docker's grammar", () => {
  for (const ref of [
    "busybox",
    "library/busybox:1.36",
    "localhost/sluice-echo:0.1.0",
    "localhost:5000/team/model:v2",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-bidi-app:latest",
    "ghcr.io/org/model@sha256:" + "0123456789abcdef".repeat(4),
    "[::1]:5000/model:1",
  ]) {
    assert.equal(isContainerImageReference(ref), true, ref);
  }
});

test("not the process host's images, nor malformed references", () => {
  for (const ref of ["sluice/echo", "sluice/transcribe", "/srv/models/echo", "file:///srv/models/echo", "./model", "../model", "", "Busybox", "a b", "model:", "model:-bad", "a//b"]) {
    assert.equal(isContainerImageReference(ref), false, ref);
  }
});
