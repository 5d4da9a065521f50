import { defineCommand } from "citty";
import { resolve } from "node:path";
import { loadDotEnvOrExit } from "./_shared";
import { log } from "../base/log";
import { locateWorkspace, missingFolder } from "../workspace/discovery";
import { COMMANDS } from "./catalog";
import { buildJson, jsonArg, printJson } from "./_json";

/** `flash build [dir]`: the manifest and the deterministic artifact that `flash deploy` uploads. */
export default defineCommand({
  meta: { name: "build", description: COMMANDS.build },
  args: {
    dir: {
      type: "positional",
      required: false,
      description: "Workspace, category or example folder to build (default: the current folder)",
    },
    app: { type: "string", alias: "a", description: "App name (default: the workspace folder's name, plus the scope)" },
    ...jsonArg,
  },
  async run({ args }) {
    const missing = args.dir ? missingFolder(args.dir) : undefined;
    if (missing) {
      log.error(missing);
      process.exit(1);
    }
    const { root, scope } = locateWorkspace(resolve(args.dir ?? process.cwd()));
    loadDotEnvOrExit([root]);
    const { runBuild, buildSummary } = await import("../deploy/build");
    try {
      const result = await runBuild({ root, scope, app: args.app });
      if (args.json) printJson(buildJson(result));
      else process.stdout.write(buildSummary(result, process.cwd()));
      process.exit(0);
    } catch (err) {
      log.error(`flash build failed: ${(err as Error).message}`);
      process.exit(1);
    }
  },
});
