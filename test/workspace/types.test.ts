import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { REPO, removeDir, runFlash } from "../helpers/workspace";
import { warmRuntimeTypes } from "../helpers/runtime-types";

warmRuntimeTypes();

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** tsc's whole program over a workspace of thousands of declarations: seconds on a shared machine. */
const TSC_MS = 180_000;

/** `tsc --noEmit -p <project>` with this repository's TypeScript; exit code and output. */
function tsc(project: string): { code: number; out: string } {
  const bin = join(REPO, "node_modules", "typescript", "bin", "tsc");
  const r = Bun.spawnSync([process.execPath, bin, "--noEmit", "-p", project], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

/** A fresh `flash init` workspace, with @types/bun linked in as `bun install` would (tests have no network). */
function freshWorkspace(): string {
  const parent = mkdtempSync(join(tmpdir(), "flash-types-"));
  dirs.push(parent);
  const r = runFlash(parent, ["init", "demo", "--yes", "--no-install"]);
  expect(r.code).toBe(0);
  const root = join(parent, "demo");
  // As `bun init` does: @types/bun pinned to the version flash itself is checked against.
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const ours = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  expect(manifest.devDependencies["@types/bun"]).toBe(ours.devDependencies["@types/bun"]);
  mkdirSync(join(root, "node_modules", "@types"), { recursive: true });
  symlinkSync(join(REPO, "node_modules", "@types", "bun"), join(root, "node_modules", "@types", "bun"));
  return root;
}

/** Every example folder of this repository (NN_category/NN_example). */
function repoExamples(): string[] {
  const categories = readdirSync(REPO).filter((d) => /^\d\d_/.test(d));
  return categories.flatMap((c) =>
    readdirSync(join(REPO, c))
      .filter((e) => /^\d\d_/.test(e))
      .map((e) => join(REPO, c, e)),
  );
}

describe("types of a flash workspace", () => {
  test(
    "a fresh workspace and every example type-check against the runtime's declarations; a typo in a config enum fails",
    () => {
      const root = freshWorkspace();
      // One tsc program (tsc costs seconds per program on a shared machine): the fresh workspace as its own
      // tsconfig.json sees it (no include: every .ts outside its excludes), a file with a typo in a config enum, and
      // the repository's examples, checked as a user's workspace sees flash: through the declarations alone (their
      // own dependencies still resolve from the repository's node_modules). A few example tests reach into core for
      // test helpers; core's ambient declarations (asset imports) come along for those. The typo must be the one
      // error: everything else is clean.
      writeFileSync(
        join(root, "01_getting_started", "01_hello_world", "typo.ts"),
        `import { GpuGroup, LiveServerless } from "flash";\nexport const c = new LiveServerless({ name: "x", gpus: [GpuGroup.ANYY] });\n`,
      );
      writeFileSync(
        join(root, "tsconfig.examples.json"),
        JSON.stringify({
          extends: "./tsconfig.json",
          include: ["./**/*.ts", `${REPO}/core/**/*.d.ts`, ...repoExamples().map((e) => `${e}/**/*.ts`)],
          exclude: ["./node_modules", "./.flash", `${REPO}/**/node_modules`],
        }),
      );
      const r = tsc(join(root, "tsconfig.examples.json"));
      expect(r.code).not.toBe(0);
      const errors = r.out.split("\n").filter((line) => /: error TS\d+:/.test(line));
      expect(errors).toHaveLength(1);
      // tsc names the file relative to its working directory.
      expect(errors[0]).toContain(
        `${join(basename(dirname(root)), "demo", "01_getting_started", "01_hello_world", "typo.ts")}(2,`,
      );
      expect(errors[0]).toContain("Property 'ANYY' does not exist");
    },
    TSC_MS,
  );
});
