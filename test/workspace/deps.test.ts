import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeDeps } from "../../core/workspace/deps";
import { removeDir, writeFiles, runFlash } from "../helpers/workspace";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

const ROOT = { name: "deps-ws", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] };

function pkg(name: string, deps: Record<string, string> = {}, dev: Record<string, string> = {}): string {
  return JSON.stringify({ name, version: "0.1.0", private: true, dependencies: deps, devDependencies: dev }, null, 2);
}

/** A temp workspace from files (root package.json included unless given). */
function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "flash-deps-"));
  dirs.push(dir);
  writeFiles(dir, { "package.json": JSON.stringify(ROOT, null, 2), ...files });
  return dir;
}

function deps(cwd: string, ...args: string[]): { code: number; out: string } {
  return runFlash(cwd, ["deps", ...args]);
}

/** Snapshot every file's content (outside node_modules), to prove a command changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of new Bun.Glob("**/*").scanSync({ cwd: dir, dot: true })) {
    if (!f.startsWith("node_modules/")) out[f] = readFileSync(join(dir, f), "utf8");
  }
  return out;
}

function bunInstall(dir: string): void {
  const res = Bun.spawnSync([process.execPath, "install"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (res.exitCode !== 0) throw new Error(`bun install failed: ${res.stderr.toString()}`);
}

describe("flash deps", () => {
  test("two examples with incompatible ranges: --check exits 1 naming them; the fix mode refuses and changes nothing", () => {
    const ws = workspace({
      "01_cat/01_alpha/package.json": pkg("@t/alpha", { "left-pad": "^1.0.0" }),
      "01_cat/02_beta/package.json": pkg("@t/beta", {}, { "left-pad": "^2.1.0" }),
      "02_cat/01_gamma/package.json": pkg("@t/gamma", { "left-pad": "~1.3.0" }),
    });
    const before = snapshot(ws);
    const check = deps(ws, "--check");
    expect(check.code).toBe(1);
    expect(check.out).toContain("left-pad: no version satisfies every range");
    expect(check.out).toMatch(/01_cat\/01_alpha\s+\^1\.0\.0/);
    expect(check.out).toMatch(/01_cat\/02_beta\s+\^2\.1\.0/);
    expect(check.out).toMatch(/02_cat\/01_gamma\s+~1\.3\.0/);
    const fix = deps(ws);
    expect(fix.code).toBe(1);
    expect(fix.out).toContain("Nothing was changed");
    expect(snapshot(ws)).toEqual(before);
  }, 30_000);

  test("a conflict with the root manifest counts too", () => {
    const ws = workspace({
      "package.json": JSON.stringify({ ...ROOT, dependencies: { elysia: "1.4.30" } }),
      "01_cat/01_alpha/package.json": pkg("@t/alpha", { elysia: "^2.0.0" }),
    });
    const check = deps(ws, "--check");
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/\(root\)\s+1\.4\.30/);
  }, 30_000);

  test("an up-to-date workspace passes --check with exit 0", () => {
    const ws = workspace({
      "01_cat/01_alpha/package.json": pkg("@t/alpha"),
      // A workspace: dependency between examples resolves locally (no network).
      "01_cat/02_beta/package.json": pkg("@t/beta", { "@t/alpha": "workspace:*" }),
    });
    bunInstall(ws);
    const check = deps(ws, "--check");
    expect(check.out).toContain("2 examples");
    expect(check.code).toBe(0);
  }, 30_000);

  test("a new example: --check reports the stale lock; flash deps writes its package.json and refreshes bun.lock", () => {
    const ws = workspace({ "01_cat/01_alpha/package.json": pkg("@t/alpha") });
    bunInstall(ws);
    writeFiles(ws, { "01_cat/02_new/gpu_worker.ts": "export {};\n" });
    const before = snapshot(ws);
    const check = deps(ws, "--check");
    expect(check.code).toBe(1);
    expect(check.out).toContain("01_cat/02_new is not a workspace package: no package.json");
    expect(snapshot(ws)).toEqual(before);

    const fix = deps(ws);
    expect(fix.code).toBe(0);
    expect(fix.out).toContain("updated 01_cat/02_new/package.json");
    const manifest = JSON.parse(readFileSync(join(ws, "01_cat/02_new/package.json"), "utf8"));
    expect(manifest.name).toBe("@flash-examples/02_new");
    const lock = Bun.JSONC.parse(readFileSync(join(ws, "bun.lock"), "utf8")) as any;
    expect(lock.workspaces["01_cat/02_new"].name).toBe("@flash-examples/02_new");
    // Atomic writes leave no temp files behind.
    expect(readdirSync(join(ws, "01_cat/02_new")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(deps(ws, "--check").code).toBe(0);
  }, 30_000);

  test("a root manifest without workspaces gets the examples glob", () => {
    const ws = workspace({
      "package.json": JSON.stringify({ name: "old-root", private: true }),
      "01_cat/01_alpha/package.json": pkg("@t/alpha"),
    });
    const report = analyzeDeps(ws);
    expect(report.notInWorkspaces).toEqual(["01_cat/01_alpha"]);
    const check = deps(ws, "--check");
    expect(check.code).toBe(1);
    expect(check.out).toContain(`01_cat/01_alpha is not matched by the root "workspaces" globs`);
    expect(deps(ws).code).toBe(0);
    expect(JSON.parse(readFileSync(join(ws, "package.json"), "utf8")).workspaces).toEqual([
      "[0-9][0-9]_*/[0-9][0-9]_*",
    ]);
    expect(existsSync(join(ws, "bun.lock"))).toBe(true);
    expect(deps(ws, "--check").code).toBe(0);
  }, 30_000);

  test("duplicate package names and broken manifests are reported and not guessed at", () => {
    const ws = workspace({
      "01_cat/01_alpha/package.json": pkg("@t/same"),
      "02_cat/01_beta/package.json": pkg("@t/same"),
      "02_cat/02_broken/package.json": "{ not json",
    });
    const check = deps(ws, "--check");
    expect(check.code).toBe(1);
    expect(check.out).toContain("package name @t/same is used by 01_cat/01_alpha and 02_cat/01_beta");
    expect(check.out).toContain("02_cat/02_broken is not a workspace package: package.json is not valid JSON");
    const before = snapshot(ws);
    expect(deps(ws).code).toBe(1);
    expect(snapshot(ws)).toEqual(before);
  }, 30_000);
});
