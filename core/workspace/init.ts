import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { writeFileAtomic } from "../base/fs";
import { findWorkspaceRoot } from "./discovery";
import {
  displayTitle,
  EXAMPLE_GLOB,
  examplePackageName,
  NUMBERED,
  resourcePrefix,
  routerPrefix,
  SNAKE_NUMBERED,
} from "./names";
import { flashCommand } from "./runtime";
import {
  EXAMPLE_TEST_FILE,
  WORKER_TYPES,
  exampleTemplate,
  render,
  workerModule,
  workspaceTemplate,
  type Pattern,
} from "./templates";

/** A refusal `flash init` explains to the user (bad name, path outside the workspace, existing files). */
export class InitError extends Error {
  override name = "InitError";
}

/** Category and example a brand-new workspace starts with. */
const DEFAULT_CATEGORY = "01_getting_started";
const DEFAULT_EXAMPLE = "01_hello_world";

/** One file `flash init` will write. */
export interface PlannedFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the workspace root, for messages. */
  rel: string;
  content: string;
  /** True when a file is already there (a conflict unless overwritten). */
  exists: boolean;
}

/** What `flash init` is about to do, computed before anything is written. */
export interface InitPlan {
  root: string;
  /** True when the workspace root itself is being created. */
  newWorkspace: boolean;
  category: string;
  example: string;
  exampleDir: string;
  pattern: Pattern;
  files: PlannedFile[];
}

/** What `flash init` was asked: the PATH argument, where it was run, and the layout. */
export interface InitRequest {
  cwd: string;
  path?: string;
  pattern: Pattern;
}

/** A valid `NN_snake_case` name close to what the user typed, numbered after the folder's last entry when it had no number. */
export function suggestName(input: string, siblings: string[] = []): string {
  const m = /^(\d{1,2})[\s_-]*(.*)$/.exec(input.trim());
  const body = (m ? m[2]! : input)
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  const number = m ? m[1]!.padStart(2, "0") : nextNumber(siblings);
  return `${number}_${body || "example"}`;
}

/** The next free two-digit number after the highest `NN_` entry in a folder ("01" when there is none). */
function nextNumber(siblings: string[]): string {
  const used = siblings.filter((s) => NUMBERED.test(s)).map((s) => Number(s.slice(0, 2)));
  return String(Math.min(99, Math.max(0, ...used) + 1)).padStart(2, "0");
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // a folder that does not exist yet has no entries
  }
}

function checkName(kind: "category" | "example", name: string, parentDir: string): void {
  if (SNAKE_NUMBERED.test(name)) return;
  // An existing category with a looser numbered name (e.g. upper case) is still a category.
  if (kind === "category" && NUMBERED.test(name) && existsSync(join(parentDir, name))) return;
  const suggestion = suggestName(name, listDir(parentDir));
  throw new InitError(
    `"${name}" is not a valid ${kind} name: use NN_snake_case (two digits, an underscore, lower-case words), e.g. "${suggestion}"`,
  );
}

/** Resolve symlinks of the deepest existing ancestor, so a symlinked folder cannot smuggle a write elsewhere. */
function realTarget(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest);
}

function isInside(root: string, path: string): boolean {
  const rel = relative(realTarget(root), realTarget(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function isEmptyDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (!statSync(dir).isDirectory()) return false;
  return readdirSync(dir).filter((f) => f !== ".git" && f !== ".DS_Store").length === 0;
}

/** Which workspace, category and example a request means, or an InitError saying why it is refused. */
function locate(req: InitRequest): { root: string; newWorkspace: boolean; category: string; example: string } {
  const cwd = resolve(req.cwd);
  const arg = req.path?.trim() || ".";
  const root = findWorkspaceRoot(cwd);
  if (root) {
    const target = resolve(cwd, arg);
    if (!isInside(root, target)) {
      // A user asking for a new workspace elsewhere gets the way to do it, not only the refusal.
      const hint = `to create a new workspace there, run \`flash init ${basename(target)}\` from outside this one (cd ${dirname(target)})`;
      throw new InitError(
        `"${arg}" is outside the workspace ${root}; examples are created inside it as NN_category/NN_example (${hint})`,
      );
    }
    const parts = relative(root, target).split(sep).filter(Boolean);
    if (parts.length !== 2 && !req.path?.trim()) {
      throw new InitError(
        `Which example? Inside a category: "flash init NN_example"; from the workspace root: "flash init NN_category/NN_example"`,
      );
    }
    if (parts.length !== 2) {
      const where = relative(root, cwd) || ".";
      throw new InitError(
        parts.length === 1 && !isAbsolute(arg) && !arg.includes("/")
          ? `"${arg}" would be a category, not an example: from the workspace root use "flash init NN_category/NN_example", or run "flash init ${arg}" inside a category`
          : `"${arg}" (from ${where}) is not an example folder: examples live at NN_category/NN_example directly under the workspace root`,
      );
    }
    const [category, example] = parts as [string, string];
    checkName("category", category, root);
    checkName("example", example, join(root, category));
    return { root, newWorkspace: false, category, example };
  }
  // Outside any workspace: create one. "NN_category/NN_example" seeds it in cwd; anything else names its folder.
  const parts = arg.split(/[\\/]/).filter((p) => p && p !== ".");
  if (!isAbsolute(arg) && parts.length === 2 && parts.every((p) => NUMBERED.test(p))) {
    if (!isEmptyDir(cwd)) {
      throw new InitError(
        `${cwd} is not inside a flash workspace and is not empty: run "flash init ${arg}" in an empty folder, or "flash init <new-folder>" to create a workspace`,
      );
    }
    checkName("category", parts[0]!, cwd);
    checkName("example", parts[1]!, join(cwd, parts[0]!));
    return { root: cwd, newWorkspace: true, category: parts[0]!, example: parts[1]! };
  }
  const newRoot = resolve(cwd, arg);
  if (!isEmptyDir(newRoot)) {
    throw new InitError(
      `${newRoot} is not inside a flash workspace and is not empty: run "flash init" in an empty folder, or "flash init <new-folder>" to create a workspace`,
    );
  }
  return { root: newRoot, newWorkspace: true, category: DEFAULT_CATEGORY, example: DEFAULT_EXAMPLE };
}

/** An npm package name for a workspace root folder (lower case, URL-safe). */
function workspacePackageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[-]+$/g, "");
  return name || "flash-workspace";
}

/** Names of the workspace packages already present, so a new example's package name stays unique. */
function takenPackageNames(root: string): Set<string> {
  const taken = new Set<string>();
  if (!existsSync(root)) return taken; // a workspace about to be created has no packages yet
  for (const rel of new Bun.Glob(`${EXAMPLE_GLOB}/package.json`).scanSync({ cwd: root, dot: false })) {
    try {
      const name = JSON.parse(readFileSync(join(root, rel), "utf8")).name;
      if (typeof name === "string") taken.add(name);
    } catch {
      // a broken manifest cannot claim a name; `flash deps` reports it
    }
  }
  return taken;
}

function packageName(root: string, category: string, example: string): string {
  const own = join(root, category, example, "package.json");
  const taken = takenPackageNames(root);
  if (existsSync(own)) {
    try {
      taken.delete(JSON.parse(readFileSync(own, "utf8")).name); // re-initialising keeps its own name
    } catch {
      // unreadable: it will be overwritten or reported as a conflict
    }
  }
  return examplePackageName(category, example, taken);
}

function fileTree(example: string, pattern: Pattern): string {
  const files = exampleTemplate(pattern)
    .map((f) => f.path)
    .sort();
  return [`${example}/`, ...files.map((f) => `  ${f}`)].join("\n");
}

/** Resource names (`name: "…"`) the workspace's other examples already use. */
function takenResourceNames(root: string, own: string): Set<string> {
  const taken = new Set<string>();
  if (!existsSync(root)) return taken;
  for (const rel of new Bun.Glob(`${EXAMPLE_GLOB}/**/*.ts`).scanSync({ cwd: root, dot: false })) {
    if (rel.startsWith(`${own}/`) || rel.includes("node_modules/")) continue;
    const text = readFileSync(join(root, rel), "utf8");
    for (const m of text.matchAll(/\bname:\s*["'`]([\w.-]+)["'`]/g)) taken.add(m[1]!);
  }
  return taken;
}

/**
 * The example's resource name prefix, `{cc}_{ee}`, unless another example already has those names (two categories
 * may share a number): then the category's name, and if need be the example's, make it unique, because resource
 * names are endpoint names and must be unique in a deploy.
 */
function uniquePrefix(root: string, category: string, example: string): string {
  const taken = takenResourceNames(root, `${category}/${example}`);
  const base = resourcePrefix(category, example);
  const candidates = [base, `${base}_${category.slice(3)}`, `${base}_${category.slice(3)}_${example.slice(3)}`];
  const free = (p: string) => !taken.has(`${p}_gpu`) && !taken.has(`${p}_cpu`);
  return candidates.find(free) ?? candidates[candidates.length - 1]!;
}

/** The placeholder values of an example: names, resource names `{cc}_{ee}_{type}`, title, paths. */
function templateVars(root: string, category: string, example: string, pattern: Pattern): Record<string, string> {
  const prefix = uniquePrefix(root, category, example);
  return {
    category,
    example,
    example_path: `${category}/${example}`,
    title: displayTitle(example),
    package_name: packageName(root, category, example),
    resource_gpu: `${prefix}_gpu`,
    resource_cpu: `${prefix}_cpu`,
    mothership_name: `${category.slice(0, 2)}_${example}-mothership`,
    gpu_module: workerModule(pattern, "gpu"),
    cpu_module: workerModule(pattern, "cpu"),
    test_file: `\`${EXAMPLE_TEST_FILE}\``,
    tree: fileTree(example, pattern),
    flash_command: flashCommand(root, 2),
    workspace_name: workspacePackageName(basename(root)),
    workspace_title: basename(root),
    // The version flash itself is checked against, as `bun init` adds @types/bun.
    bun_types_version: pkg.devDependencies["@types/bun"],
  };
}

/** Work out everything `flash init` would write, without writing anything. Throws InitError on a refusal. */
export function planInit(req: InitRequest): InitPlan {
  const { root, newWorkspace, category, example } = locate(req);
  const exampleDir = join(root, category, example);
  const vars = templateVars(root, category, example, req.pattern);
  const files: PlannedFile[] = [];
  const add = (path: string, text: string) => {
    if (!isInside(root, path)) throw new InitError(`refusing to write ${path}: it is outside the workspace ${root}`);
    files.push({ path, rel: relative(root, path), content: render(text, vars), exists: existsSync(path) });
  };
  if (newWorkspace) for (const f of workspaceTemplate()) add(join(root, f.path), f.text);
  for (const f of exampleTemplate(req.pattern)) add(join(exampleDir, f.path), f.text);
  return { root, newWorkspace, category, example, exampleDir, pattern: req.pattern, files };
}

/** The planned files that already exist. */
export function conflicts(plan: InitPlan): PlannedFile[] {
  return plan.files.filter((f) => f.exists);
}

/**
 * Write a plan's files (each atomically). Existing files are written only when listed in `overwrite` (relative
 * paths); everything else that exists is left untouched. Returns the relative paths written.
 */
export function writePlan(plan: InitPlan, overwrite: Iterable<string> = []): string[] {
  const allowed = new Set(overwrite);
  const written: string[] = [];
  for (const f of plan.files) {
    if (f.exists && !allowed.has(f.rel)) continue;
    writeFileAtomic(f.path, f.content);
    written.push(f.rel);
  }
  return written;
}

/** The URL paths the new example serves, for the next-steps message. */
export function exampleRoutes(plan: InitPlan): string[] {
  return WORKER_TYPES.map((type) => `POST ${routerPrefix(plan.category, plan.example, type)}/hello`);
}
