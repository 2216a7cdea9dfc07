#!/usr/bin/env node
// The `sluice` command. `serve` starts the platform; every other command is a client of its API.
import { Command, Option } from "commander";
import { SETTINGS } from "../server/config.js";
import { runServe } from "./serve-command.js";
import { runDelete, runDeploy, runEndpoints, runInstances, runLogs, type ClientFlags } from "./client-commands.js";

const program = new Command();
program.name("sluice").description("Self-hosted bidirectional streaming inference, wire-compatible with Amazon SageMaker AI");

const serve = program.command("serve").description("start Sluice: control plane, runtime and instances on one port");
// commander names a flag's value after the flag (`--instance-start-timeout` → `instanceStartTimeout`);
// resolveConfig wants the setting's key (`instanceStartTimeoutMs`), so each is mapped explicitly.
const settingKeys = new Map<string, string>();
for (const s of SETTINGS) {
  const placeholder = s.kind === "bool" ? "" : s.kind === "duration" ? " <duration>" : s.kind === "int" ? " <n>" : " <value>";
  const defaultText = s.default === undefined ? "" : `; default ${s.kind === "duration" ? `${s.default}ms` : String(s.default)}`;
  const option = new Option(`${s.flag}${placeholder}`, `${s.help} (env ${s.env}${defaultText})`);
  serve.addOption(option);
  settingKeys.set(option.attributeName(), s.key);
}
serve.action(async (opts: Record<string, string | boolean | undefined>) => {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [attribute, value] of Object.entries(opts)) flags[settingKeys.get(attribute) ?? attribute] = value;
  await runServe(flags);
});

function clientOptions(cmd: Command): Command {
  return cmd
    .option("--endpoint-url <url>", "where Sluice listens (env SLUICE_ENDPOINT_URL)", process.env.SLUICE_ENDPOINT_URL ?? "http://127.0.0.1:8443")
    .option("--region <region>", "signing region (env SLUICE_REGION, AWS_REGION)", process.env.SLUICE_REGION ?? process.env.AWS_REGION ?? "us-east-1")
    .option("--access-key-id <id>", "key id to sign with (else SLUICE_*, AWS_*, <data-dir>/credentials)")
    .option("--secret-access-key <secret>", "secret to sign with")
    .option("--data-dir <dir>", "where to find generated credentials (env SLUICE_DATA_DIR)", process.env.SLUICE_DATA_DIR ?? ".sluice");
}

clientOptions(program.command("deploy <name>"))
  .description("create or update an endpoint running IMAGE, and wait until it serves")
  .requiredOption("--image <image>", "sluice/echo, sluice/transcribe, a model directory, or a container image")
  .option("--instances <n>", "instances of the variant", "1")
  .option("--model-data <path>", "ModelDataUrl: a local path or file:// URL")
  .option("--variant <name>", "production variant name", "AllTraffic")
  .option("--env <k=v...>", "environment for the model (repeatable)")
  .option("--no-wait", "return once the request is accepted")
  .action((name: string, flags: ClientFlags & Record<string, unknown>) => runDeploy(name, flags));

clientOptions(program.command("endpoints")).description("list endpoints").option("--json", "print JSON").action((flags: ClientFlags) => runEndpoints(flags));

clientOptions(program.command("instances"))
  .description("list model instances: endpoint, variant, id, pid, port, state, sessions, restarts")
  .option("--endpoint <name>", "only this endpoint")
  .option("--json", "print JSON")
  .action((flags: ClientFlags) => runInstances(flags));

clientOptions(program.command("logs <endpoint>"))
  .description("print the logs of an endpoint's instances")
  .option("--instance <id>", "only this instance")
  .option("-n, --lines <n>", "last N lines of each", "50")
  .option("-f, --follow", "keep printing new lines")
  .action((endpoint: string, flags: ClientFlags) => runLogs(endpoint, flags));

clientOptions(program.command("delete <endpoint>"))
  .description("delete an endpoint (its sessions drain first) and wait until it is gone")
  .option("--no-wait", "return once the request is accepted")
  .action((endpoint: string, flags: ClientFlags) => runDelete(endpoint, flags));

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`sluice: ${err.message}\n`);
  process.exit(1);
});
