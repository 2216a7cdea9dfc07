import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AwsError } from "../protocol/aws-error.js";
import { bool, enumOf, float, int, list, map, parseTimestamp, str, struct, validateInput } from "./validate.js";

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AwsError);
    return `${err.type}: ${err.message}`;
  }
  assert.fail("no error");
}

describe("validateInput", () => {
  const shape = struct(
    {
      Name: str({ max: 5, pattern: "[a-z]+" }),
      Tags: list(struct({ Key: str({ min: 1, pattern: "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)" }) }, ["Key"]), { max: 2 }),
      Env: map(str({ pattern: "[A-Z]+" }), str({ max: 3 })),
      Count: int({ min: 1 }),
      Weight: float({ min: 0 }),
      On: bool,
      Mode: enumOf(["A", "B"]),
    },
    ["Name"],
  );

  it("anchors patterns to the whole value, as Coral does", () => {
    assert.match(message(() => validateInput(shape, { Name: "ab1" })), /Value 'ab1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-z\]\+/);
    assert.deepEqual(validateInput(shape, { Name: "abc" }), { Name: "abc" });
  });

  it("understands Unicode classes in tag patterns", () => {
    assert.doesNotThrow(() => validateInput(shape, { Name: "a", Tags: [{ Key: "Équipe über 数字 1" }] }));
    assert.match(message(() => validateInput(shape, { Name: "a", Tags: [{ Key: "no;semicolons" }] })), /'tags.1.member.key'/);
  });

  it("lists every violation with its path, and counts them", () => {
    const expected = [
      "Value 'abcdef' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5",
      "Value '[{},{},{}]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2",
      "Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null",
      "Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null",
      "Value null at 'tags.3.member.key' failed to satisfy constraint: Member must not be null",
      "Value 'lower' at 'env.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Z]+",
      "Value 'toolong' at 'env.lower' failed to satisfy constraint: Member must have length less than or equal to 3",
      "Value '0' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1",
      "Value 'C' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [A, B]",
    ];
    assert.equal(
      message(() => validateInput(shape, { Name: "abcdef", Tags: [{}, {}, {}], Env: { lower: "toolong" }, Count: 0, Mode: "C" })),
      `ValidationException: 9 validation errors detected: ${expected.join("; ")}`,
    );
  });

  it("reports a value of the wrong JSON type as a SerializationException", () => {
    assert.equal(message(() => validateInput(shape, { Name: "a", Count: 1.5 })), "SerializationException: Value 1.5 at 'count' is a number; expected an integer");
    assert.equal(message(() => validateInput(shape, { Name: "a", On: "true" })), "SerializationException: Value true at 'on' is a string; expected a boolean");
    assert.equal(message(() => validateInput(shape, { Name: "a", Tags: {} })), "SerializationException: Value {} at 'tags' is an object; expected an array");
  });

  it("ignores members the model does not know", () => {
    assert.deepEqual(validateInput(shape, { Name: "a", FromANewerSdk: 1 }), { Name: "a", FromANewerSdk: 1 });
  });
});

describe("parseTimestamp", () => {
  it("takes epoch seconds, numeric strings and ISO 8601", () => {
    assert.equal(parseTimestamp(1700000000.5), 1700000000.5);
    assert.equal(parseTimestamp("1700000000"), 1700000000);
    assert.equal(parseTimestamp("2023-11-14T22:13:20Z"), 1700000000);
    assert.equal(parseTimestamp("yesterday"), undefined);
    assert.equal(parseTimestamp(null), undefined);
  });
});
