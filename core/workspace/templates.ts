/**
 * The files `flash init` writes, embedded in the binary: each template is imported as text, so
 * `bun build --compile` bundles them and the binary needs nothing on disk. Templates end in `.tpl` so that bun test
 * and tsc never mistake them for real sources; `{{name}}` placeholders are filled in by `render`.
 */
import exampleTest from "../../templates/example/example.test.ts.tpl" with { type: "text" };
import exampleEnv from "../../templates/example/env.example.tpl" with { type: "text" };
import exampleGitignore from "../../templates/example/gitignore.tpl" with { type: "text" };
import exampleMothership from "../../templates/example/mothership.ts.tpl" with { type: "text" };
import examplePackage from "../../templates/example/package.json.tpl" with { type: "text" };
import exampleReadme from "../../templates/example/README.md.tpl" with { type: "text" };
import cpuWorker from "../../templates/workers/cpu.ts.tpl" with { type: "text" };
import gpuWorker from "../../templates/workers/gpu.ts.tpl" with { type: "text" };
import workspaceBunfig from "../../templates/workspace/bunfig.toml.tpl" with { type: "text" };
import workspaceFlashignore from "../../templates/workspace/flashignore.tpl" with { type: "text" };
import workspaceGitignore from "../../templates/workspace/gitignore.tpl" with { type: "text" };
import workspacePackage from "../../templates/workspace/package.json.tpl" with { type: "text" };
import workspaceReadme from "../../templates/workspace/README.md.tpl" with { type: "text" };
import workspaceTsconfig from "../../templates/workspace/tsconfig.json.tpl" with { type: "text" };
// The guide for coding assistants has one source: the repository's own AGENTS.md (and CLAUDE.md, which points to it)
// is what a new workspace gets, unchanged (test/workspace/init.test.ts checks it).
import agentsGuide from "../../AGENTS.md" with { type: "text" };
import claudeGuide from "../../CLAUDE.md" with { type: "text" };

/** How an example lays out its workers: `{type}_worker.ts` files, or `workers/{type}/index.ts` folders. */
export type Pattern = "single-file" | "directory";

/** The patterns `flash init --pattern` accepts, by the name a user types. */
export const PATTERNS: Record<string, Pattern> = {
  single: "single-file",
  "single-file": "single-file",
  directory: "directory",
};

/** One file to write: its path relative to the target folder and its (unrendered) text. */
export interface TemplateFile {
  path: string;
  text: string;
}

/** The worker types every template ships, in the order they are written. */
export const WORKER_TYPES = ["gpu", "cpu"] as const;

const WORKERS: Record<(typeof WORKER_TYPES)[number], string> = { gpu: gpuWorker, cpu: cpuWorker };

/** Where a worker of `type` lives in an example, relative to the example folder (without `./`). */
function workerPath(pattern: Pattern, type: string): string {
  return pattern === "directory" ? `workers/${type}/index.ts` : `${type}_worker.ts`;
}

/** The module specifier the generated test uses to import a worker (`./gpu_worker`, `./workers/gpu`). */
export function workerModule(pattern: Pattern, type: string): string {
  return pattern === "directory" ? `./workers/${type}` : `./${type}_worker`;
}

/** Name of the generated test file. */
export const EXAMPLE_TEST_FILE = "example.test.ts";

/** The files of a new example for a pattern, in write order. */
export function exampleTemplate(pattern: Pattern): TemplateFile[] {
  return [
    ...WORKER_TYPES.map((type) => ({ path: workerPath(pattern, type), text: WORKERS[type] })),
    { path: "mothership.ts", text: exampleMothership },
    { path: EXAMPLE_TEST_FILE, text: exampleTest },
    { path: "package.json", text: examplePackage },
    { path: "README.md", text: exampleReadme },
    { path: ".env.example", text: exampleEnv },
    { path: ".gitignore", text: exampleGitignore },
  ];
}

/** The files of a new workspace root (the example itself comes from `exampleTemplate`). */
export function workspaceTemplate(): TemplateFile[] {
  return [
    { path: "package.json", text: workspacePackage },
    { path: "bunfig.toml", text: workspaceBunfig },
    { path: "tsconfig.json", text: workspaceTsconfig },
    { path: "README.md", text: workspaceReadme },
    { path: ".gitignore", text: workspaceGitignore },
    { path: "AGENTS.md", text: agentsGuide },
    { path: "CLAUDE.md", text: claudeGuide },
    { path: ".flashignore", text: workspaceFlashignore },
  ];
}

/**
 * Fill `{{name}}` placeholders from `vars`. An unknown placeholder is a bug in a template, so it throws rather than
 * writing a half-filled file.
 */
export function render(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return value;
  });
}
