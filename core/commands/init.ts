import { defineCommand } from "citty";
import { relative, resolve } from "node:path";
import { InitError, conflicts, exampleRoutes, planInit, writePlan, type InitPlan } from "../workspace/init";
import { log } from "../base/log";
import { bunInstall } from "./_shared";
import { ensureRuntime, isSourceWorkspace } from "../workspace/runtime";
import { PATTERNS } from "../workspace/templates";
import { COMMANDS } from "./catalog";

/** Ask which existing files to overwrite (TTY only); an empty answer keeps them all. */
async function askOverwrite(existing: string[]): Promise<string[]> {
  const picked = await log.prompt(`These files already exist. Which ones should be overwritten?`, {
    type: "multiselect",
    options: existing,
    required: false,
  });
  // consola resolves a cancelled prompt (Ctrl+C) to a symbol: treat it as "overwrite nothing".
  if (!Array.isArray(picked)) return [];
  return picked.map((p) => (typeof p === "string" ? p : String((p as { value: unknown }).value)));
}

function nextSteps(plan: InitPlan, cwd: string, installed: boolean): string {
  const exampleRel = `${plan.category}/${plan.example}`;
  const cdRoot = relative(cwd, plan.root);
  const steps: string[] = [];
  if (cdRoot) steps.push(`cd ${cdRoot}`);
  if (!installed) steps.push(`flash deps                 # bun install: link ${exampleRel} as a workspace package`);
  steps.push(`cp ${exampleRel}/.env.example .env   # optional: RUNPOD_API_KEY only for --target runpod`);
  steps.push(`flash run --watch          # a running --watch server picks the example up by itself`);
  steps.push(`flash test ${exampleRel}`);
  const lines = steps.map((s, i) => `  ${i + 1}. ${s}`);
  const routes = exampleRoutes(plan).map((r) => `     ${r}`);
  return ["Next steps:", ...lines, "  Routes (docs at http://localhost:8888/docs):", ...routes].join("\n");
}

/** `flash init [PATH]`: create an example from the embedded templates (and a workspace around it when needed). */
export default defineCommand({
  meta: { name: "init", description: COMMANDS.init },
  args: {
    path: {
      type: "positional",
      required: false,
      description:
        "NN_example inside a category, NN_category/NN_example from the root, or a new folder outside any workspace",
    },
    pattern: {
      type: "string",
      description: "Worker layout: single (gpu_worker.ts, cpu_worker.ts) or directory (workers/{gpu,cpu}/)",
      default: "single",
    },
    force: { type: "boolean", alias: "f", description: "Overwrite files that already exist", default: false },
    yes: {
      type: "boolean",
      alias: "y",
      description: "Never ask (non-interactive); existing files still need --force",
      default: false,
    },
    install: { type: "boolean", description: "Run bun install afterwards (--no-install to skip)", default: true },
  },
  async run({ args }) {
    const pattern = PATTERNS[String(args.pattern)];
    if (!pattern) {
      log.error(`Unknown pattern "${args.pattern}": use single or directory`);
      process.exit(1);
    }
    const cwd = process.cwd();
    let plan: InitPlan;
    try {
      plan = planInit({ cwd, path: args.path ? String(args.path) : undefined, pattern });
    } catch (err) {
      if (!(err instanceof InitError)) throw err;
      log.error(err.message);
      process.exit(1);
    }

    const existing = conflicts(plan).map((f) => f.rel);
    let overwrite: string[] = [];
    if (existing.length > 0) {
      if (args.force) overwrite = existing;
      else if (!args.yes && process.stdin.isTTY && process.stdout.isTTY) overwrite = await askOverwrite(existing);
      else {
        log.error(
          `These files already exist:\n${existing.map((f) => `  ${f}`).join("\n")}\nNothing was written. Use --force to overwrite them.`,
        );
        process.exit(1);
      }
    }

    const written = writePlan(plan, overwrite);
    const kept = existing.filter((f) => !overwrite.includes(f));
    const exampleRel = `${plan.category}/${plan.example}`;
    if (plan.newWorkspace) log.success(`Created a flash workspace at ${plan.root}`);
    if (written.length === 0) log.warn(`${exampleRel}: nothing written, every existing file was kept`);
    else
      log.success(
        `Created ${exampleRel} (${pattern} pattern): ${written.length} file${written.length === 1 ? "" : "s"} written`,
      );
    for (const f of written) log.info(`  wrote ${f}`);
    for (const f of kept) log.info(`  kept  ${f} (exists)`);

    // Plain bun (tests, editors) resolves "flash" through the workspace's runtime copy; flash's own tree needs none.
    if (!isSourceWorkspace(plan.root)) await ensureRuntime(plan.root);
    const installed = args.install ? await bunInstall(resolve(plan.root)) : false;
    if (installed) log.success("bun install: the example is linked as a workspace package");
    log.log(nextSteps(plan, cwd, installed));
  },
});
