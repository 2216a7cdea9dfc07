import { test } from "node:test";
import assert from "node:assert/strict";
import { credentialResolver, regionResolver, type AwsCredentialIdentity } from "./credentials.js";

test("static credentials are used as given", async () => {
  const creds = { accessKeyId: "a", secretAccessKey: "s" };
  assert.equal(await credentialResolver(creds, {})(), creds);
});

test("the environment supplies credentials, session token included", async () => {
  const env = { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" };
  assert.deepEqual(await credentialResolver(undefined, env)(), { accessKeyId: "a", secretAccessKey: "s", sessionToken: "t" });
  await assert.rejects(credentialResolver(undefined, {})(), { name: "CredentialsProviderError" });
});

test("a provider is called once, and again only when its credentials near expiry", async () => {
  let calls = 0;
  const provider = async (): Promise<AwsCredentialIdentity> => {
    calls++;
    return { accessKeyId: `a${calls}`, secretAccessKey: "s" };
  };
  const resolve = credentialResolver(provider, {});
  await resolve();
  await resolve();
  assert.equal(calls, 1);

  let expiring = 0;
  const resolveExpiring = credentialResolver(async () => {
    expiring++;
    return { accessKeyId: "a", secretAccessKey: "s", expiration: new Date(Date.now() + 60_000) };
  }, {});
  await resolveExpiring();
  await resolveExpiring();
  assert.equal(expiring, 2, "credentials within 5 minutes of expiry are refreshed");
});

test("a failing provider is retried on the next call", async () => {
  let calls = 0;
  const resolve = credentialResolver(async () => {
    calls++;
    if (calls === 1) throw new Error("not yet");
    return { accessKeyId: "a", secretAccessKey: "s" };
  }, {});
  await assert.rejects(resolve(), /not yet/);
  assert.equal((await resolve()).accessKeyId, "a");
});

test("region comes from the option, a provider or AWS_REGION", async () => {
  assert.equal(await regionResolver("eu-west-1", {})(), "eu-west-1");
  assert.equal(await regionResolver(async () => "ap-south-1", {})(), "ap-south-1");
  assert.equal(await regionResolver(undefined, { AWS_REGION: "us-east-2" })(), "us-east-2");
  await assert.rejects(regionResolver(undefined, {})(), /Region is missing/);
});
