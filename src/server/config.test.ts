import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, resolveConfig, SETTINGS } from "./config.js";

test("flags win over the environment, which wins over defaults", () => {
  const config = resolveConfig({ port: "9000" }, { SLUICE_PORT: "9100", SLUICE_HOST: "0.0.0.0" });
  assert.equal(config.port, 9000);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.dataDir, ".sluice");
  assert.equal(config.pingIntervalMs, 60_000);
  assert.equal(config.maxMissedPongs, 5);
  assert.equal(config.maxPayloadBytes, 16 * 1024 * 1024);
});

test("durations take ms, s and m; bad values name the flag", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("75"), 75);
  assert.throws(() => resolveConfig({ pingIntervalMs: "soon" }, {}), /--ping-interval: not a duration/);
  assert.throws(() => resolveConfig({ port: "-1" }, {}), /--port: not a whole number/);
  assert.throws(() => resolveConfig({ auth: "maybe" }, {}), /--auth: "maybe" is not one of sigv4, none/);
  assert.throws(() => resolveConfig({ tlsCert: "c.pem" }, {}), /--tls-cert and --tls-key go together/);
});

test("every setting has a distinct flag and environment variable", () => {
  assert.equal(new Set(SETTINGS.map((s) => s.flag)).size, SETTINGS.length);
  assert.equal(new Set(SETTINGS.map((s) => s.env)).size, SETTINGS.length);
});
