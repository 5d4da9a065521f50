/**
 * The guides say what works: every shell command shown in AGENTS.md and CONTRIBUTING.md is run (in the repository,
 * or in a temp workspace made by `flash init` when it writes files) or listed below with the reason it is not; every
 * path the guides and docs/architecture.md name exists; every function docs/architecture.md names is defined.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMMANDS as FLASH_COMMANDS } from "../../core/commands/catalog";
import { REPO, removeDir } from "../helpers/workspace";
import { warmRuntimeTypes } from "../helpers/runtime-types";

warmRuntimeTypes();

const GUIDES = ["AGENTS.md", "CONTRIBUTING.md"];
const DOCS = [...GUIDES, "docs/architecture.md"];

/** The example the guides create: it does not exist in the repository, only in the temp workspaces. */
const NEW_EXAMPLE = "03_advanced_workers/06_image_resize";

type Result = { code: number; out: string; cwd: string };

/** How the test treats one command shown in a guide. */
type Plan =
  | {
      /** `repo`: run as written at the repository root (read-only commands). `fresh`: in a copy of a new workspace;
       * `example`: in a copy of a workspace where NEW_EXAMPLE was already created. `bun cli.ts` runs as `flash` there. */
      run: "repo" | "fresh" | "example";
      /** Run first, for what the guide takes as given (being inside an existing category). */
      before?: string;
      check: (r: Result) => void;
    }
  | { skip: string };

const ok = (r: Result) => expect(r.code, r.out).toBe(0);
const wrote =
  (...files: string[]) =>
  (r: Result) => {
    ok(r);
    for (const f of files) expect(existsSync(join(r.cwd, NEW_EXAMPLE, f)), `${f} written`).toBe(true);
  };

/** Every command the guides show, and what is done with it. A command missing here fails the test. */
const PLANS: Record<string, Plan> = {
  // AGENTS.md
  [`flash init ${NEW_EXAMPLE}`]: { run: "fresh", check: wrote("gpu_worker.ts", "cpu_worker.ts", "example.test.ts") },
  "cd 03_advanced_workers && flash init 06_image_resize": {
    run: "fresh",
    before: "mkdir 03_advanced_workers",
    check: wrote("gpu_worker.ts", "mothership.ts", "package.json"),
  },
  [`flash init ${NEW_EXAMPLE} --pattern directory`]: {
    run: "fresh",
    check: wrote("workers/gpu/index.ts", "workers/cpu/index.ts"),
  },
  "flash deps": { run: "example", check: ok },
  "flash deps --check": {
    run: "repo",
    check: (r) => {
      ok(r);
      expect(r.out).toContain("bun.lock is up to date");
    },
  },
  [`flash test ${NEW_EXAMPLE}`]: {
    run: "example",
    check: (r) => {
      ok(r);
      expect(r.out).toMatch(/\b[1-9]\d* pass/);
      expect(r.out).toContain(" 0 fail");
    },
  },
  // CONTRIBUTING.md
  "bun install --frozen-lockfile": { skip: "this test runs in an installed checkout; .ci/run installs from scratch" },
  "bun cli.ts --help": {
    run: "repo",
    check: (r) => {
      ok(r);
      for (const name of Object.keys(FLASH_COMMANDS)) expect(r.out).toContain(name);
    },
  },
  "bun run dev": { skip: "a server that runs until Ctrl+C (test/dev/watch.test.ts covers flash run --watch)" },
  [`bun cli.ts init ${NEW_EXAMPLE} --no-install`]: { run: "fresh", check: wrote("gpu_worker.ts", "README.md") },
  "bun run build": { skip: "compiles the binary (~1 min); test/e2e/commands/binary.test.ts builds it" },
  "bun run test:unit": { skip: "part of the full suite" },
  "bun test test/workspace": { skip: "part of the full suite" },
  "bun test 01_getting_started/01_hello_world": { skip: "part of the full suite" },
  "bun run test:all": { skip: "the full suite, this test included" },
  "bun cli.ts deps --check": { run: "repo", check: ok },
  "bun run format": { skip: "rewrites files in the repository; .ci/run runs bun run format:check" },
  "bun run typecheck": { skip: "tsc over the repository takes minutes on a loaded machine; .ci/run runs it" },
};

/** The shell commands of a markdown file: each line of its bash/sh/shell fences, without comments. */
function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const m of markdown.matchAll(/^```(?:bash|sh|shell)\n([\s\S]*?)^```/gm)) {
    for (const line of m[1]!.split("\n")) {
      const command = line.replace(/(^|\s)#.*$/, "").trim();
      if (command) commands.push(command);
    }
  }
  return commands;
}

const read = (rel: string) => readFileSync(join(REPO, rel), "utf8");
const shown = GUIDES.flatMap((g) => shellCommands(read(g)).map((command) => ({ guide: g, command })));

let tmp: string;
let binDir: string;
let freshWorkspace: string;
let exampleWorkspace: string;

async function sh(command: string, cwd: string): Promise<Result> {
  const proc = Bun.spawn(["bash", "-c", command], {
    cwd,
    env: { ...process.env, PATH: `${binDir}:${dirname(process.execPath)}:${process.env.PATH}`, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err, cwd };
}

function copyOf(workspace: string): string {
  const dir = mkdtempSync(join(tmp, "copy-"));
  cpSync(workspace, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "flash-guides-"));
  // `flash` in the guides is this checkout's cli.ts, as the binary would be.
  binDir = join(tmp, "bin");
  mkdirSync(binDir);
  writeFileSync(join(binDir, "flash"), `#!/bin/sh\nexec "${process.execPath}" "${join(REPO, "cli.ts")}" "$@"\n`);
  chmodSync(join(binDir, "flash"), 0o755);
  const made = await sh("flash init ws --yes --no-install", tmp);
  expect(made.code, made.out).toBe(0);
  freshWorkspace = join(tmp, "ws");
  exampleWorkspace = copyOf(freshWorkspace);
  const example = await sh(`flash init ${NEW_EXAMPLE}`, exampleWorkspace);
  expect(example.code, example.out).toBe(0);
}, 60_000);

// The temp workspaces hold installed packages: removing them took over the 5 s default on a loaded machine.
afterAll(() => removeDir(tmp), 30_000);

describe("the commands the guides show", () => {
  test("every command shown has a plan, and every plan is shown", () => {
    const unknown = shown.filter((s) => !(s.command in PLANS)).map((s) => `${s.guide}: ${s.command}`);
    expect(unknown, "add these commands to PLANS (run or skip with a reason)").toEqual([]);
    const commands = new Set(shown.map((s) => s.command));
    expect(Object.keys(PLANS).filter((c) => !commands.has(c))).toEqual([]);
  });

  test("skipped commands still name a real script or flash command", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    for (const [command, plan] of Object.entries(PLANS)) {
      if (!("skip" in plan)) continue;
      const script = /^bun run ([\w:-]+)/.exec(command)?.[1];
      if (script) expect(Object.keys(scripts), command).toContain(script);
      const sub = /^(?:flash|bun cli\.ts) (\w+)/.exec(command)?.[1];
      if (sub) expect(Object.keys(FLASH_COMMANDS), command).toContain(sub);
    }
  });

  for (const [command, plan] of Object.entries(PLANS)) {
    if (!("run" in plan)) continue;
    test(`${command}  (${plan.run === "repo" ? "in the repository" : "in a temp workspace"})`, async () => {
      const cwd = plan.run === "repo" ? REPO : copyOf(plan.run === "fresh" ? freshWorkspace : exampleWorkspace);
      const written = plan.run === "repo" ? command : command.replace(/^bun cli\.ts /, "flash ");
      if (plan.before) expect((await sh(plan.before, cwd)).code).toBe(0);
      plan.check(await sh(written, cwd));
    }, 60_000);
  }
});

/** Folders a relative path in the guides may be relative to: the repository, each example, and a new example. */
function roots(): string[] {
  const examples = readdirSync(REPO)
    .filter((c) => /^\d\d_/.test(c))
    .flatMap((c) =>
      readdirSync(join(REPO, c))
        .filter((e) => /^\d\d_/.test(e))
        .map((e) => join(REPO, c, e)),
    );
  return [REPO, ...examples, join(exampleWorkspace, NEW_EXAMPLE), exampleWorkspace];
}

/** Paths a doc names: inline code spans and link targets that look like files or folders (no URLs, routes, placeholders). */
function namedPaths(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  const candidates = [
    ...[...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!),
  ];
  const paths = candidates.filter(
    (c) =>
      /^\.?[\w.-]+(?:\/[\w.-]+)*\/?$/.test(c) &&
      !/^\.\w+$/.test(c) && // an extension (`.ts`), not a file
      !c.includes("NN_") && // a placeholder (`NN_category/NN_example`)
      (c.includes("/") || /\.(?:ts|md|json|js|toml|lock|png)$/.test(c)),
  );
  return [...new Set(paths)];
}

/** Paths that are made, not kept: the build output, the workspace runtime, the state of a Runpod session. */
const GENERATED = new Set(["dist/flash", "./flash", ".flash/runtime", ".flash/resources.json"]);

/** File names of the sources: docs/architecture.md names a file by itself inside a sentence about its folder. */
const SOURCE_NAMES = new Set(
  [...new Bun.Glob("{core,worker,scripts}/**/*.{ts,js}").scanSync({ cwd: REPO })].map((rel) => rel.split("/").pop()!),
);

describe("the paths and functions the guides name", () => {
  for (const doc of DOCS) {
    test(`every path ${doc} names exists`, () => {
      const where = roots();
      const missing = namedPaths(read(doc)).filter(
        (p) =>
          !GENERATED.has(p.replace(/\/$/, "")) &&
          !p.startsWith(NEW_EXAMPLE) &&
          !where.some((root) => existsSync(join(root, p))) &&
          !(doc === "docs/architecture.md" && !p.includes("/") && SOURCE_NAMES.has(p)),
      );
      expect(missing).toEqual([]);
    });
  }

  test("every function docs/architecture.md names is defined in the code", () => {
    const sources = ["cli.ts", ...new Bun.Glob("{core,worker,scripts}/**/*.{ts,js}").scanSync({ cwd: REPO })].map(
      (rel) => read(rel),
    );
    const code = sources.join("\n");
    const names = [...read("docs/architecture.md").matchAll(/`(?:(\w+)\.)?(\w+)\(\)`/g)];
    expect(names.length).toBeGreaterThan(40);
    const undefinedNames = names
      .map((m) => ({ owner: m[1], name: m[2]! }))
      .filter(({ name }) => name !== "import") // the language's dynamic import
      .filter(({ owner, name }) => {
        const defined = new RegExp(
          `(?:function\\s+${name}\\b|\\b(?:const|let)\\s+${name}\\s*=|^\\s*(?:(?:public|private|protected|static|async|override|get)\\s+)*${name}\\s*(?:<[^>\\n]*>)?\\(|^\\s*${name}\\s*:\\s*(?:async\\s*)?\\()`,
          "m",
        ).test(code);
        const ownerDefined = !owner || !/^[A-Z]/.test(owner) || new RegExp(`\\bclass\\s+${owner}\\b`).test(code);
        return !defined || !ownerDefined;
      })
      .map(({ owner, name }) => (owner ? `${owner}.${name}` : name));
    expect(undefinedNames).toEqual([]);
  });
});
