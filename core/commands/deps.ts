import { defineCommand } from "citty";
import { resolve } from "node:path";
import { analyzeDeps, fixManifests, formatReport, hasUnfixable, isClean, type DepsReport } from "../workspace/deps";
import { locateWorkspace } from "../workspace/discovery";
import { log } from "../base/log";
import { bunInstall } from "./_shared";
import { COMMANDS } from "./catalog";

function summary(r: DepsReport): string {
  const pkgs = new Set(r.examples.flatMap((m) => Object.keys(m.ranges)));
  return `${r.examples.length} example${r.examples.length === 1 ? "" : "s"}, ${pkgs.size} package${pkgs.size === 1 ? "" : "s"}`;
}

function reportProblems(r: DepsReport): void {
  for (const line of formatReport(r)) log.error(line);
}

/** `flash deps`: keep every example a workspace package and their dependency ranges compatible (also `--check` for CI). */
export default defineCommand({
  meta: { name: "deps", description: COMMANDS.deps },
  args: {
    dir: {
      type: "positional",
      required: false,
      description: "Workspace (default: the one around the current directory)",
    },
    check: {
      type: "boolean",
      description: "Only report; exit 1 when anything is out of line (for CI)",
      default: false,
    },
  },
  async run({ args }) {
    const { root } = locateWorkspace(resolve(String(args.dir ?? process.cwd())));
    const report = analyzeDeps(root);
    if (isClean(report)) {
      log.success(`${summary(report)}: every example is a workspace package, ranges agree, bun.lock is up to date`);
      return;
    }
    if (args.check) {
      reportProblems(report);
      log.error(`Dependencies are out of line: run "flash deps" (or "bun run consolidate-deps") and fix what it names`);
      process.exit(1);
    }
    if (hasUnfixable(report)) {
      reportProblems(report);
      log.error(
        "Nothing was changed: fix the problems above in the examples' package.json files, then run flash deps again",
      );
      process.exit(1);
    }
    for (const file of fixManifests(report)) log.success(`updated ${file}`);
    if (!(await bunInstall(root))) process.exit(1);
    const after = analyzeDeps(root);
    if (!isClean(after)) {
      reportProblems(after);
      process.exit(1);
    }
    log.success(`${summary(after)}: root manifest and bun.lock are up to date`);
  },
});
