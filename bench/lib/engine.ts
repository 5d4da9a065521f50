/**
 * Which flash the benchmarks run. Other work lands in the working tree all the time, often half-done, so by
 * default the benchmarks run a snapshot of the last commit (`git archive HEAD`, node_modules linked from the
 * working tree); `--tree worktree` runs the working tree as it is.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** This repository (the working tree the bench scripts live in). */
export const REPO = resolve(import.meta.dir, "..", "..");

/** The flash being measured: `root` holds cli.ts, core/, the examples and the compiled `flash`. */
export const engine = { root: REPO, label: "working tree" };

function git(args: string[]): string {
  const out = Bun.spawnSync(["git", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (out.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${out.stderr.toString()}`);
  return out.stdout.toString().trim();
}

/** Point `engine` at a snapshot of HEAD (made once per commit under the temp dir), or at the working tree. */
export function selectEngine(tree: string): void {
  if (tree === "worktree") return;
  const sha = git(["rev-parse", "--short=12", "HEAD"]);
  const dir = join(tmpdir(), `flash-bench-head-${sha}`);
  if (!existsSync(join(dir, "cli.ts"))) {
    // Each snapshot holds a 100 MB binary once built: drop those of older commits, unless made in the last hour
    // (a benchmark started earlier may still be running on one).
    for (const old of readdirSync(tmpdir()).filter((d) => d.startsWith("flash-bench-head-"))) {
      if (Date.now() - statSync(join(tmpdir(), old)).mtimeMs > 3_600_000)
        rmSync(join(tmpdir(), old), { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    const tar = Bun.spawnSync(["sh", "-c", `git archive HEAD | tar -x -C '${dir}'`], { cwd: REPO, stderr: "pipe" });
    if (tar.exitCode !== 0) throw new Error(`git archive HEAD: ${tar.stderr.toString()}`);
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    for (const category of readdirSync(REPO).filter((d) => /^\d\d_/.test(d))) {
      for (const example of existsSync(join(dir, category)) ? readdirSync(join(dir, category)) : []) {
        const modules = join(REPO, category, example, "node_modules");
        if (existsSync(modules) && !existsSync(join(dir, category, example, "node_modules"))) {
          symlinkSync(modules, join(dir, category, example, "node_modules"));
        }
      }
    }
  }
  engine.root = dir;
  engine.label = `HEAD ${sha} (snapshot in ${dir})`;
}
