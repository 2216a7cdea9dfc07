// What `PrimaryContainer.Image` and `ModelDataUrl` may be (DESIGN §1), and which host runs an
// image. The server hands the control plane a HostResolver built from the hosts it configured;
// the rules and the messages a user sees live here.

import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import type { Host, ImageInfo } from "../hosting/host.js";
import { isAwsError } from "../protocol/aws-error.js";
import { validationException } from "./validate.js";

/** The bundled example models; the rest of the `sluice/` namespace is reserved. */
export const BUILTIN_IMAGES: readonly string[] = ["sluice/echo", "sluice/transcribe"];

export type ImageKind = "builtin" | "local-dir" | "container";

export interface HostResolver {
  /** The host that runs `image`, or undefined when none of the configured hosts does. */
  resolve(image: string): Host | undefined;
  /** Every configured host, for reaping leftovers after a restart. */
  all(): readonly Host[];
}

/** The usual resolver: the first host whose `handles(image)` says yes. */
export function hostResolver(hosts: readonly Host[]): HostResolver {
  return {
    resolve: (image) => hosts.find((h) => h.handles(image)),
    all: () => hosts,
  };
}

export function classifyImage(image: string): ImageKind {
  if (BUILTIN_IMAGES.includes(image)) return "builtin";
  // Relative paths count as local too, so the host's inspect explains why they are refused
  // instead of their being taken for a container image.
  if (image.startsWith("file://") || isAbsolute(image) || image.startsWith("./") || image.startsWith("../")) {
    return "local-dir";
  }
  return "container";
}

/**
 * Checks an image against the rules and the configured hosts; returns the host. Throws
 * ValidationException with a message that says what to do instead.
 */
export function hostForImage(hosts: HostResolver, image: string): Host {
  const kind = classifyImage(image);
  if (kind === "container" && image.startsWith("sluice/")) {
    throw validationException(
      `Image "${image}" is not a Sluice model: the sluice/ prefix is reserved for ${BUILTIN_IMAGES.join(" and ")}.`,
    );
  }
  const host = hosts.resolve(image);
  if (host !== undefined) return host;
  if (kind === "container") {
    throw validationException(
      `Image "${image}" is a container image reference, but no Docker host is configured (start Sluice with --docker-host or DOCKER_HOST).`,
    );
  }
  throw validationException(`Image "${image}" cannot be run: no configured host runs ${kind} models.`);
}

/** Asks the host about the image; its complaint becomes the ValidationException. */
export async function inspectImage(host: Host, image: string): Promise<ImageInfo> {
  try {
    return await host.inspect(image);
  } catch (err) {
    if (isAwsError(err)) throw err;
    throw validationException(`Image "${image}" cannot be used: ${(err as Error).message}`);
  }
}

/** `ModelDataUrl` → local path. Only local paths and file:// URLs: there is no S3 here. */
export function modelDataPath(url: string): string {
  if (/^s3:\/\//i.test(url)) {
    throw validationException(
      `ModelDataUrl "${url}" is an S3 URL; Sluice has no S3. Copy the model data to this machine and give its absolute path or a file:// URL.`,
    );
  }
  let path: string;
  if (url.startsWith("file://")) {
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw validationException(`ModelDataUrl "${url}" is not a valid file:// URL: ${(err as Error).message}`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw validationException(`ModelDataUrl "${url}" is not supported: give an absolute local path or a file:// URL.`);
  } else {
    path = url;
  }
  if (!isAbsolute(path)) {
    throw validationException(`ModelDataUrl "${url}" must be an absolute path or a file:// URL.`);
  }
  if (!existsSync(path)) {
    throw validationException(`ModelDataUrl "${url}" does not exist on this machine.`);
  }
  // A file (model.tar.gz) or a directory: both are handed to the instance as they are.
  statSync(path);
  return path;
}
