// The keys requests must be signed with (DESIGN §1): SLUICE_ACCESS_KEY_ID/SLUICE_SECRET_ACCESS_KEY,
// and/or an AWS-INI credentials file with several keys; with neither, a key pair is generated
// into <data-dir>/credentials (mode 0600) on first start. SIGHUP calls reload(); a session keeps
// the secret it was verified with, so rotation never cuts an open stream.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the key came from, for logs (never the secret). */
  source: string;
}

export interface KeyStoreOptions {
  env: NodeJS.ProcessEnv;
  /** The INI file to read (and to generate into when no key is configured anywhere). */
  file: string;
}

export interface LoadResult {
  keys: number;
  /** Set when this start generated a key pair: the only time its secret is shown. */
  generated?: AccessKey;
}

export class KeyStore {
  private keys = new Map<string, AccessKey>();

  constructor(private readonly options: KeyStoreOptions) {}

  /** Loads keys, generating a key pair when none is configured. */
  load(): LoadResult {
    let generated: AccessKey | undefined;
    const envKey = this.envKey();
    if (!envKey && !existsSync(this.options.file)) {
      generated = generateKey(`file ${this.options.file}`);
      writeCredentialsFile(this.options.file, [{ profile: "default", key: generated }]);
    }
    this.reload();
    return { keys: this.keys.size, generated };
  }

  /** Re-reads the environment key and the file; a broken file keeps the previous keys. */
  reload(): number {
    const next = new Map<string, AccessKey>();
    const envKey = this.envKey();
    if (envKey) next.set(envKey.accessKeyId, envKey);
    if (existsSync(this.options.file)) {
      for (const key of parseCredentialsIni(readFileSync(this.options.file, "utf8"), this.options.file)) {
        next.set(key.accessKeyId, key);
      }
    }
    this.keys = next;
    return next.size;
  }

  lookup(accessKeyId: string): AccessKey | undefined {
    return this.keys.get(accessKeyId);
  }

  /** Key ids only, for the start-up banner. */
  accessKeyIds(): string[] {
    return [...this.keys.keys()];
  }

  get file(): string {
    return this.options.file;
  }

  private envKey(): AccessKey | undefined {
    const id = this.options.env.SLUICE_ACCESS_KEY_ID;
    const secret = this.options.env.SLUICE_SECRET_ACCESS_KEY;
    if (!id && !secret) return undefined;
    if (!id || !secret) throw new Error("SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY go together");
    return { accessKeyId: id, secretAccessKey: secret, source: "environment" };
  }
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function generateKey(source: string): AccessKey {
  const idBytes = randomBytes(16);
  let id = "AKSL";
  for (const b of idBytes) id += KEY_ALPHABET[b % 32];
  const secret = randomBytes(30).toString("base64").replace(/\+/g, "A").replace(/\//g, "B");
  return { accessKeyId: id, secretAccessKey: secret, source };
}

export function writeCredentialsFile(file: string, entries: { profile: string; key: AccessKey }[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const text = entries
    .map((e) => `[${e.profile}]\naws_access_key_id = ${e.key.accessKeyId}\naws_secret_access_key = ${e.key.secretAccessKey}\n`)
    .join("\n");
  writeFileSync(file, text, { mode: 0o600 });
}

/** Every profile with both an access key id and a secret becomes an accepted key. */
export function parseCredentialsIni(text: string, file: string): AccessKey[] {
  const profiles = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = {};
      profiles.set(section[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !current) continue;
    current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  const keys: AccessKey[] = [];
  for (const [profile, values] of profiles) {
    const id = values.aws_access_key_id;
    const secret = values.aws_secret_access_key;
    if (id && secret) keys.push({ accessKeyId: id, secretAccessKey: secret, source: `file ${file} [${profile}]` });
  }
  return keys;
}

/** The first key of a credentials file, for clients such as the CLI. */
export function firstKeyOf(file: string): AccessKey | undefined {
  if (!existsSync(file)) return undefined;
  return parseCredentialsIni(readFileSync(file, "utf8"), file)[0];
}
