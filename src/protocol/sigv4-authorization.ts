// Parses a SigV4 Authorization header:
//   AWS4-HMAC-SHA256 Credential=AKID/20261125/us-west-2/sagemaker/aws4_request,
//   SignedHeaders=host;x-amz-date, Signature=<64 hex>
// Anything malformed is IncompleteSignatureException, as AWS answers.

import { incompleteSignature } from "./sigv4-errors.js";

export const ALGORITHM = "AWS4-HMAC-SHA256";

export interface ParsedAuthorization {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  terminator: string;
  /** Lower-case header names, in the order given. */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
}

const SIGNATURE = /^[0-9a-fA-F]{64}$/;

export function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(" ");
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm.slice(0, 64)}'. Use ${ALGORITHM}.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const pair = part.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw incompleteSignature(`Invalid key=value pair (missing equal-sign) in Authorization header.`);
    params.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const missing = ["Credential", "Signature", "SignedHeaders"]
    .filter((name) => !params.get(name))
    .map((name) => `Authorization header requires '${name}' parameter.`);
  if (missing.length > 0) throw incompleteSignature(missing.join(" "));

  const credential = params.get("Credential")!.split("/");
  if (credential.length !== 5 || credential.some((part) => part === "")) {
    throw incompleteSignature(
      "Credential should be of the form 'AccessKeyId/yyyymmdd/region/service/aws4_request'.",
    );
  }
  const [accessKeyId, shortDate, region, service, terminator] = credential as [string, string, string, string, string];
  const signature = params.get("Signature")!;
  if (!SIGNATURE.test(signature)) throw incompleteSignature("Signature should be 64 hexadecimal characters.");
  const signedHeaders = params.get("SignedHeaders")!.split(";");
  if (signedHeaders.some((name) => name === "" || name !== name.toLowerCase())) {
    throw incompleteSignature("SignedHeaders should be a ';'-separated list of lower-case header names.");
  }
  return { accessKeyId, shortDate, region, service, terminator, signedHeaders, signature: signature.toLowerCase() };
}
