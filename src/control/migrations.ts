// Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records
// how far a database has come. Never edit a released migration: append a new one.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "models, endpoint configs, endpoints, deployments, tags",
    // Names are unique case-insensitively, because the ARN lower-cases them: `name_key` is the
    // lower-cased name and the primary key; `name` keeps the user's spelling.
    sql: `
      CREATE TABLE models (
        name_key      TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        arn           TEXT NOT NULL UNIQUE,
        creation_time REAL NOT NULL,
        spec          TEXT NOT NULL
      );
      CREATE TABLE endpoint_configs (
        name_key      TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        arn           TEXT NOT NULL UNIQUE,
        creation_time REAL NOT NULL,
        spec          TEXT NOT NULL
      );
      CREATE TABLE endpoints (
        name_key               TEXT PRIMARY KEY,
        name                   TEXT NOT NULL,
        arn                    TEXT NOT NULL UNIQUE,
        endpoint_config_name   TEXT NOT NULL,
        status                 TEXT NOT NULL,
        failure_reason         TEXT,
        creation_time          REAL NOT NULL,
        last_modified_time     REAL NOT NULL,
        current_deployment_id  TEXT,
        desired_deployment_id  TEXT,
        deployment_config      TEXT
      );
      -- A copy of the config and its models taken at CreateEndpoint/UpdateEndpoint, so deleting
      -- either never affects a running endpoint, its restart or its scaling.
      CREATE TABLE deployments (
        id                    TEXT PRIMARY KEY,
        endpoint_key          TEXT NOT NULL,
        endpoint_config_name  TEXT NOT NULL,
        created_at            REAL NOT NULL,
        body                  TEXT NOT NULL
      );
      CREATE INDEX deployments_by_endpoint ON deployments(endpoint_key);
      CREATE TABLE tags (
        resource_arn  TEXT NOT NULL,
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        position      INTEGER NOT NULL,
        PRIMARY KEY (resource_arn, key)
      );
    `,
  },
  {
    version: 2,
    description: "instance records, for reaping leftovers after a restart",
    sql: `
      CREATE TABLE instances (
        instance_id    TEXT PRIMARY KEY,
        endpoint_key   TEXT NOT NULL,
        deployment_id  TEXT NOT NULL,
        variant_name   TEXT NOT NULL,
        host_kind      TEXT NOT NULL,
        pid            INTEGER,
        start_time_ms  INTEGER,
        container_id   TEXT,
        port           INTEGER,
        log_file       TEXT NOT NULL
      );
    `,
  },
];
