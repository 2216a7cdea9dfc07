import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyStore, parseCredentialsIni } from "./credentials.js";

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-creds-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "credentials");
}

test("with no key anywhere, a key pair is generated into a 0600 file and shown once", (t) => {
  const file = tempFile(t);
  const store = new KeyStore({ env: {}, file });
  const first = store.load();
  assert.ok(first.generated);
  assert.match(first.generated.accessKeyId, /^AKSL[A-Z2-7]{16}$/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(store.lookup(first.generated.accessKeyId)?.secretAccessKey, first.generated.secretAccessKey);
  const second = new KeyStore({ env: {}, file }).load();
  assert.equal(second.generated, undefined);
  assert.equal(second.keys, 1);
});

test("the environment key and every profile of the file are accepted; reload picks up a new profile", (t) => {
  const file = tempFile(t);
  writeFileSync(file, "[default]\naws_access_key_id = AKONE\naws_secret_access_key = s1\n\n[profile two]\naws_access_key_id=AKTWO\naws_secret_access_key=s2\n[incomplete]\naws_access_key_id = AKX\n");
  const store = new KeyStore({ env: { SLUICE_ACCESS_KEY_ID: "AKENV", SLUICE_SECRET_ACCESS_KEY: "senv" }, file });
  assert.equal(store.load().keys, 3);
  assert.equal(store.lookup("AKTWO")?.secretAccessKey, "s2");
  assert.equal(store.lookup("AKX"), undefined);
  writeFileSync(file, readFileSync(file, "utf8") + "\n[three]\naws_access_key_id = AKTHREE\naws_secret_access_key = s3\n");
  assert.equal(store.lookup("AKTHREE"), undefined);
  assert.equal(store.reload(), 4);
  assert.equal(store.lookup("AKTHREE")?.secretAccessKey, "s3");
});

test("half an environment key is an error, not a silent fallback", (t) => {
  const store = new KeyStore({ env: { SLUICE_ACCESS_KEY_ID: "AK" }, file: tempFile(t) });
  assert.throws(() => store.load(), /go together/);
});

test("INI parsing ignores comments and blank lines", () => {
  const keys = parseCredentialsIni("# c\n; c\n\n[a]\naws_access_key_id=K\naws_secret_access_key=S\n", "f");
  assert.deepEqual(keys.map((k) => [k.accessKeyId, k.secretAccessKey]), [["K", "S"]]);
});
