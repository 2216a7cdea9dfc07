// The README's tables are the user's reference: every setting and every refused or no-op member
// must be there, so docs cannot drift from the code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIELD_POLICIES } from "../src/control/unsupported-fields.js";
import { SETTINGS } from "../src/server/config.js";
import { REPO_ROOT } from "./helpers/sluice.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

test("README starts with the install-and-start and test commands", () => {
  const firstBlock = readme.split("```")[1];
  assert.match(firstBlock, /npm ci && npm start/);
  assert.match(firstBlock, /npm test/);
});

test("README lists every setting with its flag and environment variable", () => {
  for (const s of SETTINGS) {
    assert.ok(readme.includes(`| \`${s.flag}\` | \`${s.env}\` |`), `README lacks ${s.flag} / ${s.env}`);
  }
});

test("README lists every member Sluice stores as a no-op or refuses", () => {
  for (const p of FIELD_POLICIES) {
    assert.ok(readme.includes(`| ${p.operation} | \`${p.field}\` |`), `README lacks ${p.operation} ${p.field}`);
  }
});
