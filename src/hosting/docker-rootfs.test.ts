import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libraryClosure, stageRootfs } from "./docker-rootfs.js";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(join(tmpdir(), "sluice-rootfs-test-"));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test("the Node binary comes with every library ldd lists, at the loader's paths", async () => {
  const libs = await libraryClosure([process.execPath]);
  assert.ok(libs.some((l) => /\/libc\.so\.6$/.test(l)));
  assert.ok(libs.some((l) => /ld-linux/.test(l)), "the dynamic loader itself");
  await withDir(async (root) => {
    await stageRootfs({ placed: { "/opt/bin/node": process.execPath } }, root);
    assert.ok((await fs.stat(join(root, "opt/bin/node"))).mode & 0o111, "node is executable where it was placed");
    for (const lib of libs) {
      const st = await fs.stat(join(root, lib)); // follows the tree's own /lib → usr/lib links
      assert.ok(st.isFile(), lib);
    }
    assert.match(await fs.readFile(join(root, "etc/passwd"), "utf8"), /^nobody:/m);
    assert.equal((await fs.stat(join(root, "tmp"))).mode & 0o7777, 0o1777);
  });
});

test("Debian packages bring their files, not their documentation", async () => {
  await withDir(async (root) => {
    await stageRootfs({ debianPackages: ["libsoxr0"] }, root);
    const files = await fs.readdir(join(root, "usr/lib/x86_64-linux-gnu"));
    assert.ok(files.includes("libsoxr.so.0"));
    await assert.rejects(fs.stat(join(root, "usr/share/doc/libsoxr0")));
  });
});

test("a package that is not installed is an error saying how to install it", async () => {
  await withDir(async (root) => {
    await assert.rejects(stageRootfs({ debianPackages: ["sluice-no-such-package"] }, root), /apt-get install sluice-no-such-package/);
  });
});
