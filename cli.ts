#!/usr/bin/env bun
import { defineCommand, runMain } from "citty";
import pkg from "./package.json" with { type: "json" };

/** The `flash` command: each subcommand is loaded only when used, so `flash --help` stays fast. */
export const main = defineCommand({
  meta: {
    name: "flash",
    version: pkg.version,
    description: "Write, serve and test serverless GPU/CPU functions and their examples",
  },
  subCommands: {
    run: () => import("./core/commands/run").then((m) => m.default),
    init: () => import("./core/commands/init").then((m) => m.default),
    deps: () => import("./core/commands/deps").then((m) => m.default),
    test: () => import("./core/commands/test").then((m) => m.default),
    __worker: () => import("./core/remote/command").then((m) => m.default),
    emulator: () => import("./core/commands/emulator").then((m) => m.default),
    "__runpod-worker": () => import("./worker/command").then((m) => m.default),
  },
});

if (import.meta.main) {
  if (process.argv[2] && !process.argv[2].startsWith("-")) {
    // Any real command may load example code: make "flash" resolve to this process's engine first.
    const { registerFlashModules } = await import("./core/modules");
    registerFlashModules();
  }
  await runMain(main);
}
