#!/usr/bin/env node
// `npm run images`: builds the bundled container images on a local engine, from a base image
// made of this machine's own files (no registry). Uses the compiled code, so run it after
// `npm run build` (the npm script does both).
//
//   node scripts/build-images.mjs [--docker-host unix:///path] [--only echo,transcribe]
//                                 [--rebuild-bases] [--version X.Y.Z] [--verbose]
//
// Engine: --docker-host, else DOCKER_HOST, else a private `podman system service` started for
// the duration of the build (so a fresh machine needs nothing running).
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    "docker-host": { type: "string" },
    only: { type: "string" },
    "rebuild-bases": { type: "boolean", default: false },
    version: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

const { buildBundledImages } = await import(resolve(root, "dist/src/hosting/docker-bundled-images.js")).catch((err) => {
  console.error(`build-images: compiled code missing (run npm run build first): ${err.message}`);
  process.exit(1);
});
const { dockerClient } = await import(resolve(root, "dist/src/hosting/docker-connection.js"));
const { startPodmanService } = await import(resolve(root, "dist/src/hosting/docker-podman-service.js"));

const hostSetting = values["docker-host"] ?? process.env.DOCKER_HOST;
let service;
let docker;
if (hostSetting) {
  docker = dockerClient(hostSetting);
} else {
  service = await startPodmanService();
  docker = service.docker;
  console.log(`build-images: no DOCKER_HOST, using a private podman service on ${service.socketPath}`);
}

const started = Date.now();
try {
  const built = await buildBundledImages(docker, {
    projectRoot: root,
    version: values.version,
    only: values.only?.split(",").map((s) => s.trim()).filter(Boolean),
    rebuildBases: values["rebuild-bases"],
    // The engine's step-by-step build output only with --verbose; failures carry their message.
    log: values.verbose ? (line) => console.log(`  ${line}`) : () => {},
  });
  for (const b of built) console.log(`${b.reference}  ${b.id.slice(0, 12)}  ${b.skipped ? "unchanged" : `${b.ms} ms`}`);
  console.log(`build-images: done in ${Date.now() - started} ms`);
} catch (err) {
  console.error(`build-images: ${err.message}`);
  process.exitCode = 1;
} finally {
  await service?.stop();
}
