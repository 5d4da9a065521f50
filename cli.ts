#!/usr/bin/env bun
import type { CommandDef } from "citty";
import { mainUsage, unknownCommand } from "./core/commands/catalog";
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
      login: () => strictly("login", import("./core/commands/login")),
      completion: () => strictly("completion", import("./core/commands/completion")),
      upgrade: () => strictly("upgrade", import("./core/commands/upgrade")),
      doctor: () => strictly("doctor", import("./core/commands/doctor")),
      "__runpod-worker": () => import("./core/commands/runpod-worker").then((m) => m.default),
    },
  });
  await runMain(command);
}

/**
 * Decide colour once, before citty and consola read the environment at import: none when NO_COLOR is set to
 * anything (no-color.org), when TERM is dumb or when stdout is not a terminal, unless FORCE_COLOR asks for it.
 * citty only knows NO_COLOR=1 and consola reads FORCE_COLOR, so both are set to agree.
 */
function settleColour(env: Record<string, string | undefined>, isTty: boolean): void {
  const forced = !!env.FORCE_COLOR && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
  const colour = env.NO_COLOR ? false : forced || (isTty && env.TERM !== "dumb");
  if (colour) {
    delete env.NO_COLOR;
    env.FORCE_COLOR = "1";
  } else {
    env.NO_COLOR = "1";
    delete env.FORCE_COLOR;
  }
}

if (import.meta.main) {
  settleColour(process.env, !!process.stdout.isTTY);
  // `flash help [command]` as `flash [command] --help`, as git and npm accept it.
  if (process.argv[2] === "help") process.argv.splice(2, 2, ...(process.argv[3] ? [process.argv[3], "--help"] : []));
  const argv = process.argv.slice(2);
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h"))) {
    // citty's usage would import every command to read its description: print ours from the catalog instead.
    process.stdout.write(mainUsage(DESCRIPTION, pkg.version));
    process.exit(0);
  }
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v" || argv[0] === "-V")) {
    // Imported here, not at the top: `flash --help` loads nothing it does not print.
    const { versionLine } = await import("./core/base/binary");
    process.stdout.write(versionLine(pkg.version));
    process.exit(0);
  }
  const unknown = argv[0] && !argv[0].startsWith("-") ? unknownCommand(argv[0]) : undefined;
  if (unknown) {
    // A usage error: one line with the nearest command, exit 2 (citty would print the whole usage and exit 1).
    process.stderr.write(unknown);
    process.exit(2);
  }
  if (argv[0] && !argv[0].startsWith("-")) {
    // Any real command may load example code: make "flash" resolve to this process's engine first.
    const { registerFlashModules } = await import("./core/workspace/self-import");
    registerFlashModules();
  }
  await main();
}
