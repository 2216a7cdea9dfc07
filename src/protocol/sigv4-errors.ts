// The errors AWS answers a badly authenticated request with: all 403, with AWS's own types and
// wording, so SDKs and people reading logs recognise them. Messages never include the secret
// or the signature we computed.

import { AwsError } from "./aws-error.js";

const status = 403;

export function missingAuthenticationToken(): AwsError {
  return new AwsError("MissingAuthenticationTokenException", status, "Missing Authentication Token");
}

export function unrecognizedClient(): AwsError {
  return new AwsError("UnrecognizedClientException", status, "The security token included in the request is invalid.");
}

export function incompleteSignature(message: string): AwsError {
  return new AwsError("IncompleteSignatureException", status, message);
}

export function invalidSignature(message: string): AwsError {
  return new AwsError("InvalidSignatureException", status, message);
}

export const SIGNATURE_MISMATCH_MESSAGE =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export function signatureMismatch(): AwsError {
  return invalidSignature(SIGNATURE_MISMATCH_MESSAGE);
}
