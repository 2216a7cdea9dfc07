// Which `PrimaryContainer.Image` values are container image references (DESIGN §1 "Models"):
// Docker's reference grammar, minus what the process host owns (`sluice/…`, absolute paths,
// `file://` URLs, relative paths).

// distribution/reference: [domain[:port]/]path-component(/path-component)*[:tag][@digest]
const DOMAIN = String.raw`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`;
const REFERENCE = new RegExp(String.raw`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** The prefix the bundled, process-hosted models own. */
export const RESERVED_PREFIX = "sluice/";

export function isContainerImageReference(image: string): boolean {
  if (image.length === 0 || image.length > 255 + 128 + 72) return false;
  if (image.startsWith(RESERVED_PREFIX) || image.startsWith("file:") || image.startsWith("/") || image.startsWith(".")) return false;
  return REFERENCE.test(image);
}
