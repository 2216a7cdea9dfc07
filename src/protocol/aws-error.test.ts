import { test } from "node:test";
import assert from "node:assert/strict";
import { AwsError } from "./aws-error.js";

test("AwsError carries type, status and extra members into its JSON body", () => {
  const err = new AwsError("ModelError", 424, "upgrade refused", { fields: { OriginalStatusCode: 503 } });
  assert.equal(err.name, "ModelError");
  assert.deepEqual(err.toJSON(), {
    __type: "ModelError",
    Message: "upgrade refused",
    message: "upgrade refused",
    OriginalStatusCode: 503,
  });
});
