#!/usr/bin/env bun
import type { CommandDef } from "citty";
import { mainUsage } from "./core/commands/catalog";
import pkg from "./package.json" with { type: "json" };

const DESCRIPTION = "Write, serve and test serverless GPU/CPU functions and their examples";

/** A command that refuses flags it does not declare (exit 2 with a did-you-mean: core/commands/strict.ts). */
async function strictly(name: string, loaded: Promise<{ default: CommandDef<any> }>): Promise<CommandDef<any>> {
  const [{ strict }, m] = await Promise.all([import("./core/commands/strict"), loaded]);
  return strict(m.default, `flash ${name}`);
}

/** The `flash` command (citty): each subcommand is loaded only when used, so `flash --help` stays fast. */
export async function main(): Promise<void> {
  const { defineCommand, runMain } = await import("citty");
  const command = defineCommand({
    meta: { name: "flash", version: pkg.version, description: DESCRIPTION },
    subCommands: {
      run: () => strictly("run", import("./core/commands/run")),
      init: () => strictly("init", import("./core/commands/init")),
      deps: () => strictly("deps", import("./core/commands/deps")),
      test: () => strictly("test", import("./core/commands/test")),
      __worker: () => import("./core/commands/worker").then((m) => m.default),
      emulator: () => strictly("emulator", import("./core/commands/emulator")),
      build: () => strictly("build", import("./core/commands/build")),
      deploy: () => strictly("deploy", import("./core/commands/deploy")),
      undeploy: () => strictly("undeploy", import("./core/commands/undeploy")),
      env: () => strictly("env", import("./core/commands/env")),
      app: () => strictly("app", import("./core/commands/app")),
      logs: () => strictly("logs", import("./core/commands/logs")),
      doctor: () => strictly("doctor", import("./core/commands/doctor")),
      "__runpod-worker": () => import("./core/commands/runpod-worker").then((m) => m.default),
    },
  });
  await runMain(command);
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h"))) {
    // citty's usage would import every command to read its description: print ours from the catalog instead.
    process.stdout.write(mainUsage(DESCRIPTION, pkg.version));
    process.exit(0);
  }
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    // Imported here, not at the top: `flash --help` loads nothing it does not print.
    const { versionLine } = await import("./core/base/binary");
    process.stdout.write(versionLine(pkg.version));
    process.exit(0);
  }
  if (argv[0] && !argv[0].startsWith("-")) {
    // Any real command may load example code: make "flash" resolve to this process's engine first.
    const { registerFlashModules } = await import("./core/workspace/self-import");
    registerFlashModules();
  }
  await main();
}
