import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { locateWorkspace } from "../workspace/discovery";
import { log } from "../base/log";
import { bunCommand } from "../base/binary";
import { ensureRuntime } from "../workspace/runtime";
import { COMMANDS } from "./catalog";

/** Resolve what to test to a path inside the workspace: as given from cwd, else relative to the root. */
function resolveTestPath(root: string, cwd: string, path: string): string | undefined {
  for (const candidate of [resolve(cwd, path), resolve(root, path)]) {
    const rel = relative(root, candidate);
    if (rel.startsWith("..") || isAbsolute(rel)) continue;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * `flash test [path]`: run the tests of the whole workspace, or of one category or example, with the bun inside
 * the flash binary (`BUN_BE_BUN=1`), so the binary alone is enough. A preload makes `import … from "flash"`
 * resolve even when the workspace's tsconfig does not map it.
 */
export default defineCommand({
  meta: { name: "test", description: COMMANDS.test },
  args: {
    path: {
      type: "positional",
      required: false,
      description: "Example or category folder (default: the whole workspace, or the folder you are in)",
    },
  },
  async run({ args, rawArgs }) {
    const cwd = process.cwd();
    const { root, scope } = locateWorkspace(cwd);
    // Everything after "--" belongs to bun test, even where citty also offers it as the positional path.
    const dashdash = rawArgs.indexOf("--");
    const extra = dashdash >= 0 ? rawArgs.slice(dashdash + 1) : [];
    const ownArgs = dashdash >= 0 ? rawArgs.slice(0, dashdash) : rawArgs;
    const pathArg = args.path && ownArgs.includes(String(args.path)) ? String(args.path) : undefined;
    let target: string | undefined;
    if (pathArg) {
      target = resolveTestPath(root, cwd, pathArg);
      if (!target) {
        log.error(`"${pathArg}" is not a folder or file inside the workspace ${root}`);
        process.exit(1);
      }
    } else if (scope.category) {
      target = cwd; // run from inside a category or example: test just that part
    }
    const runtime = await ensureRuntime(root);
    // bun test treats bare words as name filters; "./" makes it a path.
    const filters = target && target !== root ? [`./${relative(root, target)}`] : [];
    const { cmd, env } = bunCommand(["test", "--preload", runtime.preload, ...filters, ...extra]);
    log.info(`testing ${filters[0] ?? "the whole workspace"} in ${root}`);
    const proc = Bun.spawn(cmd, { cwd: root, env, stdio: ["inherit", "inherit", "inherit"] });
    process.exit(await proc.exited);
  },
});
