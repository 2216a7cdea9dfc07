// The control plane's durable state: SQLite in `<data-dir>/sluice.db`.
//
// Durability: WAL with `synchronous=FULL`, so every committed transaction's WAL frames are
// fsynced before the call returns. NORMAL would already survive kill -9 (the WAL lives in the OS
// page cache, which outlives the process) but not a power cut; control-plane writes happen only
// on API calls and state transitions, never per message, so the fsync costs nothing that matters.
//
// One process owns a data dir: the connection takes SQLite's exclusive lock at open and keeps it,
// so a second Sluice on the same dir fails fast instead of reaping the first one's instances.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS, type Migration } from "./migrations.js";
import type {
  DeploymentRecord,
  EndpointConfigRecord,
  EndpointRecord,
  EndpointStatus,
  InstanceRow,
  ModelRecord,
  Tag,
} from "./records.js";

export interface StoreOptions {
  /** Only tests pass this, to exercise the migration runner. */
  migrations?: readonly Migration[];
  /** How long to wait for another process's lock before giving up (ms). Default 2000. */
  lockTimeoutMs?: number;
}

type Row = Record<string, unknown>;

const key = (name: string): string => name.toLowerCase();

export class Store {
  readonly path: string;
  private readonly db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
  }

  /** Opens (creating if needed) `<dataDir>/sluice.db` and brings its schema up to date. */
  static open(dataDir: string, options: StoreOptions = {}): Store {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, "sluice.db");
    const db = new Database(path, { timeout: options.lockTimeoutMs ?? 2000 });
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      db.pragma("locking_mode = EXCLUSIVE");
      // Takes the write lock now; in exclusive mode it is held until close.
      db.exec("BEGIN IMMEDIATE; COMMIT;");
      migrate(db, options.migrations ?? MIGRATIONS);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === "SQLITE_BUSY") {
        throw new Error(`${path} is in use by another Sluice process (${(err as Error).message})`, { cause: err });
      }
      throw err;
    }
    return new Store(path, db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  /** Runs `fn` in one transaction: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ── models ──────────────────────────────────────────────────────────────────────────────
  insertModel(m: ModelRecord): void {
    this.db
      .prepare("INSERT INTO models (name_key, name, arn, creation_time, spec) VALUES (?, ?, ?, ?, ?)")
      .run(key(m.name), m.name, m.arn, m.creationTime, JSON.stringify(m.spec));
  }

  getModel(name: string): ModelRecord | undefined {
    const row = this.db.prepare("SELECT * FROM models WHERE name_key = ?").get(key(name)) as Row | undefined;
    return row && toModel(row);
  }

  listModels(): ModelRecord[] {
    return (this.db.prepare("SELECT * FROM models").all() as Row[]).map(toModel);
  }

  deleteModel(name: string): boolean {
    return this.db.prepare("DELETE FROM models WHERE name_key = ?").run(key(name)).changes > 0;
  }

  // ── endpoint configs ────────────────────────────────────────────────────────────────────
  insertEndpointConfig(c: EndpointConfigRecord): void {
    this.db
      .prepare("INSERT INTO endpoint_configs (name_key, name, arn, creation_time, spec) VALUES (?, ?, ?, ?, ?)")
      .run(key(c.name), c.name, c.arn, c.creationTime, JSON.stringify(c.spec));
  }

  getEndpointConfig(name: string): EndpointConfigRecord | undefined {
    const row = this.db.prepare("SELECT * FROM endpoint_configs WHERE name_key = ?").get(key(name)) as Row | undefined;
    return row && toEndpointConfig(row);
  }

  listEndpointConfigs(): EndpointConfigRecord[] {
    return (this.db.prepare("SELECT * FROM endpoint_configs").all() as Row[]).map(toEndpointConfig);
  }

  deleteEndpointConfig(name: string): boolean {
    return this.db.prepare("DELETE FROM endpoint_configs WHERE name_key = ?").run(key(name)).changes > 0;
  }

  // ── endpoints ───────────────────────────────────────────────────────────────────────────
  insertEndpoint(e: EndpointRecord): void {
    this.db
      .prepare(
        `INSERT INTO endpoints (name_key, name, arn, endpoint_config_name, status, failure_reason, creation_time,
           last_modified_time, current_deployment_id, desired_deployment_id, deployment_config)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        key(e.name),
        e.name,
        e.arn,
        e.endpointConfigName,
        e.status,
        e.failureReason ?? null,
        e.creationTime,
        e.lastModifiedTime,
        e.currentDeploymentId ?? null,
        e.desiredDeploymentId ?? null,
        e.deploymentConfig === undefined ? null : JSON.stringify(e.deploymentConfig),
      );
  }

  getEndpoint(name: string): EndpointRecord | undefined {
    const row = this.db.prepare("SELECT * FROM endpoints WHERE name_key = ?").get(key(name)) as Row | undefined;
    return row && toEndpoint(row);
  }

  listEndpoints(): EndpointRecord[] {
    return (this.db.prepare("SELECT * FROM endpoints").all() as Row[]).map(toEndpoint);
  }

  /** Writes the whole record back (callers read-modify-write inside a transaction). */
  updateEndpoint(e: EndpointRecord): void {
    this.db
      .prepare(
        `UPDATE endpoints SET endpoint_config_name = ?, status = ?, failure_reason = ?, last_modified_time = ?,
           current_deployment_id = ?, desired_deployment_id = ?, deployment_config = ?
         WHERE name_key = ?`,
      )
      .run(
        e.endpointConfigName,
        e.status,
        e.failureReason ?? null,
        e.lastModifiedTime,
        e.currentDeploymentId ?? null,
        e.desiredDeploymentId ?? null,
        e.deploymentConfig === undefined ? null : JSON.stringify(e.deploymentConfig),
        key(e.name),
      );
  }

  /** Removes the endpoint with its deployments, tags and instance records. */
  deleteEndpoint(name: string): void {
    const e = this.getEndpoint(name);
    if (e === undefined) return;
    this.transaction(() => {
      this.db.prepare("DELETE FROM endpoints WHERE name_key = ?").run(key(name));
      this.db.prepare("DELETE FROM deployments WHERE endpoint_key = ?").run(key(name));
      this.db.prepare("DELETE FROM instances WHERE endpoint_key = ?").run(key(name));
      this.db.prepare("DELETE FROM tags WHERE resource_arn = ?").run(e.arn);
    });
  }

  setEndpointStatus(name: string, status: EndpointStatus, at: number, failureReason?: string): void {
    this.db
      .prepare("UPDATE endpoints SET status = ?, failure_reason = ?, last_modified_time = ? WHERE name_key = ?")
      .run(status, failureReason ?? null, at, key(name));
  }

  // ── deployments ─────────────────────────────────────────────────────────────────────────
  insertDeployment(d: DeploymentRecord): void {
    this.db
      .prepare("INSERT INTO deployments (id, endpoint_key, endpoint_config_name, created_at, body) VALUES (?, ?, ?, ?, ?)")
      .run(d.id, key(d.endpointName), d.endpointConfigName, d.createdAt, JSON.stringify(d));
  }

  getDeployment(id: string): DeploymentRecord | undefined {
    const row = this.db.prepare("SELECT body FROM deployments WHERE id = ?").get(id) as Row | undefined;
    return row && (JSON.parse(row.body as string) as DeploymentRecord);
  }

  updateDeployment(d: DeploymentRecord): void {
    this.db.prepare("UPDATE deployments SET body = ? WHERE id = ?").run(JSON.stringify(d), d.id);
  }

  deleteDeployment(id: string): void {
    this.db.prepare("DELETE FROM deployments WHERE id = ?").run(id);
  }

  // ── tags ────────────────────────────────────────────────────────────────────────────────
  /** Adds or overwrites; a new key goes after the existing ones, an overwritten one keeps its place. */
  putTags(arn: string, tags: readonly Tag[]): void {
    const next = this.db.prepare("SELECT COALESCE(MAX(position), 0) AS p FROM tags WHERE resource_arn = ?");
    const upsert = this.db.prepare(
      `INSERT INTO tags (resource_arn, key, value, position) VALUES (?, ?, ?, ?)
       ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`,
    );
    this.transaction(() => {
      for (const t of tags) {
        const p = (next.get(arn) as { p: number }).p + 1;
        upsert.run(arn, t.Key, t.Value, p);
      }
    });
  }

  listTags(arn: string): Tag[] {
    return this.listTagsInOrder(arn).map(({ tag }) => tag);
  }

  /** With each tag's insertion position: a cursor that stays valid when other tags go. */
  listTagsInOrder(arn: string): { tag: Tag; position: number }[] {
    return (
      this.db.prepare("SELECT key, value, position FROM tags WHERE resource_arn = ? ORDER BY position").all(arn) as Row[]
    ).map((r) => ({ tag: { Key: r.key as string, Value: r.value as string }, position: r.position as number }));
  }

  deleteTags(arn: string, keys?: readonly string[]): void {
    if (keys === undefined) {
      this.db.prepare("DELETE FROM tags WHERE resource_arn = ?").run(arn);
      return;
    }
    const del = this.db.prepare("DELETE FROM tags WHERE resource_arn = ? AND key = ?");
    this.transaction(() => {
      for (const k of keys) del.run(arn, k);
    });
  }

  // ── instances ───────────────────────────────────────────────────────────────────────────
  insertInstance(i: InstanceRow): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO instances (instance_id, endpoint_key, deployment_id, variant_name, host_kind, pid,
           start_time_ms, container_id, port, log_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        i.instanceId,
        key(i.endpointName),
        i.deploymentId,
        i.variantName,
        i.hostKind,
        i.pid ?? null,
        i.startTimeMs ?? null,
        i.containerId ?? null,
        i.port ?? null,
        i.logFile,
      );
  }

  deleteInstance(instanceId: string): void {
    this.db.prepare("DELETE FROM instances WHERE instance_id = ?").run(instanceId);
  }

  listInstanceRows(): InstanceRow[] {
    return (this.db.prepare("SELECT * FROM instances").all() as Row[]).map((r) => ({
      instanceId: r.instance_id as string,
      endpointName: r.endpoint_key as string,
      deploymentId: r.deployment_id as string,
      variantName: r.variant_name as string,
      hostKind: r.host_kind as string,
      pid: (r.pid as number | null) ?? undefined,
      startTimeMs: (r.start_time_ms as number | null) ?? undefined,
      containerId: (r.container_id as string | null) ?? undefined,
      port: (r.port as number | null) ?? undefined,
      logFile: r.log_file as string,
    }));
  }
}

function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new Error(
      `${db.name} has schema version ${current}, newer than this Sluice knows (${latest}); upgrade Sluice or use another --data-dir`,
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

function toModel(r: Row): ModelRecord {
  return {
    name: r.name as string,
    arn: r.arn as string,
    creationTime: r.creation_time as number,
    spec: JSON.parse(r.spec as string),
  };
}

function toEndpointConfig(r: Row): EndpointConfigRecord {
  return {
    name: r.name as string,
    arn: r.arn as string,
    creationTime: r.creation_time as number,
    spec: JSON.parse(r.spec as string),
  };
}

function toEndpoint(r: Row): EndpointRecord {
  return {
    name: r.name as string,
    arn: r.arn as string,
    endpointConfigName: r.endpoint_config_name as string,
    status: r.status as EndpointStatus,
    failureReason: (r.failure_reason as string | null) ?? undefined,
    creationTime: r.creation_time as number,
    lastModifiedTime: r.last_modified_time as number,
    currentDeploymentId: (r.current_deployment_id as string | null) ?? undefined,
    desiredDeploymentId: (r.desired_deployment_id as string | null) ?? undefined,
    deploymentConfig: r.deployment_config === null ? undefined : JSON.parse(r.deployment_config as string),
  };
}
