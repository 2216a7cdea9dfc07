// Stages a container root filesystem from files of this very machine, so that base images can be
// made without any registry: named files (the Node binary Sluice runs on), the files of named
// Debian packages (Python, pocketsphinx and its model), and every shared library `ldd` says
// those need. The result is a directory ready to be tarred and imported as an image.

import { execFile } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface RootfsSpec {
  /** Absolute host paths copied at the same path; ELF files bring their `ldd` closure. */
  files?: string[];
  /**
   * Image path → host file copied there (dereferenced), e.g. `/usr/bin/node` → wherever this
   * machine's Node lives (`/usr/local/bin`, an nvm directory…), so Dockerfiles can name one path.
   */
  placed?: Record<string, string>;
  /** Debian packages whose installed files (`dpkg -L`) are copied, documentation left out. */
  debianPackages?: string[];
  /** Extra files written into the tree: path → content. */
  extraFiles?: Record<string, string>;
}

export interface StagedRootfs {
  /** Number of regular files and symlinks in the tree. */
  entries: number;
}

// Documentation and package metadata are no use inside an image.
const EXCLUDED_PREFIXES = ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/", "/usr/share/bug/"];

// A merged-/usr host has /lib, /bin … as symlinks into /usr; the image gets the same layout so a
// path `ldd` prints (/lib/…) and one `dpkg -L` prints (/usr/lib/…) land on the same file.
const TOP_LEVEL_LINKS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/** Minimal account files: some programs (Python's getpass, Node's os.userInfo) look users up. */
const BASE_FILES: Record<string, string> = {
  "/etc/passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
  "/etc/group": "root:x:0:\nnogroup:x:65534:\n",
  "/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
};

/**
 * Fills `root` (an empty directory) with the files `spec` names and their library closure.
 * Requires `ldd` and, for `debianPackages`, `dpkg-query`.
 */
export async function stageRootfs(spec: RootfsSpec, root: string): Promise<StagedRootfs> {
  const copied = new Set<string>();

  for (const link of TOP_LEVEL_LINKS) {
    const target = await fs.readlink(link).catch(() => undefined);
    if (target !== undefined) await fs.symlink(target, join(root, link));
  }
  for (const dir of ["/tmp", "/root", "/etc", "/usr/bin", "/usr/lib"]) {
    await fs.mkdir(join(root, dir), { recursive: true });
  }
  await fs.chmod(join(root, "/tmp"), 0o1777);

  const wanted: string[] = [...(spec.files ?? [])];
  for (const pkg of spec.debianPackages ?? []) wanted.push(...(await debianPackageFiles(pkg)));

  const elfs: string[] = [];
  for (const path of wanted) {
    if (EXCLUDED_PREFIXES.some((p) => path.startsWith(p))) continue;
    const kind = await copyPath(path, root, copied, false);
    if (kind === "file" && (await isElf(path))) elfs.push(path);
  }
  for (const [dest, source] of Object.entries(spec.placed ?? {})) {
    const target = join(root, dest);
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.rm(target, { force: true });
    await fs.copyFile(source, target);
    await fs.chmod(target, (await fs.stat(source)).mode & 0o7777);
    copied.add(dest);
    if (await isElf(source)) elfs.push(source);
  }
  for (const lib of await libraryClosure(elfs)) {
    // Dereferenced: the soname `ldd` printed is the name the loader will look for.
    await copyPath(lib, root, copied, true);
  }

  for (const [path, content] of Object.entries({ ...BASE_FILES, ...(spec.extraFiles ?? {}) })) {
    const dest = join(root, path);
    await fs.mkdir(dirname(dest), { recursive: true });
    await fs.writeFile(dest, content);
    copied.add(path);
  }
  return { entries: copied.size };
}

/** Regular files and symlinks a Debian package installed (directories come with their files). */
export async function debianPackageFiles(pkg: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run("dpkg-query", ["-L", pkg], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    throw new Error(`Debian package ${pkg} is not installed (apt-get install ${pkg}): ${(err as Error).message}`, { cause: err });
  }
  const files: string[] = [];
  for (const line of stdout.split("\n")) {
    // dpkg-query -L also prints "diverted by" notes; only absolute paths are files.
    if (!line.startsWith("/")) continue;
    const st = await fs.lstat(line).catch(() => undefined);
    if (st && (st.isFile() || st.isSymbolicLink())) files.push(line);
  }
  return files;
}

/** Every shared library the given ELF files load, directly or not, as absolute host paths. */
export async function libraryClosure(elfs: string[]): Promise<string[]> {
  const libs = new Set<string>();
  // ldd already resolves the whole tree for each object, so one pass over the roots suffices.
  for (const elf of elfs) {
    let stdout: string;
    try {
      ({ stdout } = await run("ldd", [elf]));
    } catch (err) {
      // Statically linked objects make ldd exit non-zero with "not a dynamic executable".
      const out = String((err as { stdout?: string }).stdout ?? "") + String((err as { stderr?: string }).stderr ?? "");
      if (/not a dynamic executable|statically linked/.test(out)) continue;
      throw new Error(`ldd ${elf} failed: ${(err as Error).message}`, { cause: err });
    }
    for (const line of stdout.split("\n")) {
      if (/=>\s*not found/.test(line)) throw new Error(`${elf} needs a library this machine lacks: ${line.trim()}`);
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  return [...libs].sort();
}

async function isElf(path: string): Promise<boolean> {
  const fh = await fs.open(path, constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await fh.close();
  }
}

/**
 * Copies one host path into the tree at its canonical location (its directory resolved through
 * symlinks such as /lib → usr/lib), keeping symlinks as symlinks unless `dereference`.
 */
async function copyPath(
  path: string,
  root: string,
  copied: Set<string>,
  dereference: boolean,
): Promise<"file" | "symlink" | "skipped"> {
  const canonical = posix.join(await fs.realpath(dirname(path)), posix.basename(path));
  if (copied.has(canonical)) return "skipped";
  const dest = join(root, canonical);
  await fs.mkdir(dirname(dest), { recursive: true });
  const st = await fs.lstat(path);
  if (st.isSymbolicLink() && !dereference) {
    await fs.symlink(await fs.readlink(path), dest);
    copied.add(canonical);
    return "symlink";
  }
  // A dereferenced library may land where a symlink of a package already sits; the file wins.
  await fs.rm(dest, { force: true });
  await fs.copyFile(path, dest);
  const real = await fs.stat(path);
  await fs.chmod(dest, real.mode & 0o7777);
  copied.add(canonical);
  return "file";
}
