/**
 * Compiling the flash binary for one target, with the same entry points and flags as `bun run build` (read from
 * package.json's `build` script, so the release can never drift from the binary that CI tests), plus the target,
 * the runtime to embed and the build facts that `flash --version` prints.
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bunTarget, exeSuffix, type ReleaseTarget } from "./targets";

/** The arguments of the `build` script's `bun build` command after `bun build`, without its `--outfile`. */
export function buildScriptArgs(buildScript: string): string[] {
  const command = buildScript.split("&&")[0]!.trim();
  const words = command.split(/\s+/);
  if (words[0] !== "bun" || words[1] !== "build") throw new Error(`the build script is not a "bun build": ${command}`);
  const args: string[] = [];
  for (let i = 2; i < words.length; i++) {
    if (words[i] === "--outfile") i++;
    else if (!words[i]!.startsWith("--outfile=")) args.push(words[i]!);
  }
  return args;
}

/** What one compile needs beyond the build script. */
export interface CompileOptions {
  /** The repository root (entry points are relative to it). */
  root: string;
  /** The `build` script of package.json. */
  buildScript: string;
  target: ReleaseTarget;
  /** Bun's runtime for the target; undefined compiles with the running bun itself (host target only). */
  runtime?: string;
  /** The commit `flash --version` reports. */
  commit: string;
  /** The file to write. */
  outfile: string;
}

/** The full `bun build` argument list for one compile (without the bun executable). */
export function compileArgs(o: Omit<CompileOptions, "root">, tmpOut: string): string[] {
  return [
    "build",
    ...buildScriptArgs(o.buildScript),
    `--target=${bunTarget(o.target)}`,
    ...(o.runtime ? [`--compile-executable-path=${o.runtime}`] : []),
    "--define",
    `FLASH_COMMIT=${JSON.stringify(o.commit)}`,
    "--outfile",
    tmpOut,
  ];
}

/** Compile one binary and move it to `o.outfile`; throws with bun's own error output on failure. */
export async function compileBinary(o: CompileOptions): Promise<void> {
  // Compile into a fresh folder: bun writes a sourcemap (and, for Windows, adds ".exe") beside the outfile.
  const tmp = mkdtempSync(`${o.outfile}.build-`);
  try {
    const tmpOut = join(tmp, "flash");
    const proc = Bun.spawn([process.execPath, ...compileArgs(o, tmpOut)], {
      cwd: o.root,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`bun build for ${o.target.id} failed (exit ${code}):\n${err || out}`);
    const written = [tmpOut + exeSuffix(o.target.os), tmpOut].find((p) => existsSync(p));
    if (!written) throw new Error(`bun build for ${o.target.id} wrote no binary:\n${out}`);
    renameSync(written, o.outfile);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The commit to stamp: `git rev-parse --short=12 HEAD`, with `-dirty` when tracked files have changes. */
export function currentCommit(root: string): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "pipe" });
  if (head.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root });
  const suffix = dirty.exitCode === 0 && dirty.stdout.toString().trim() ? "-dirty" : "";
  return head.stdout.toString().trim() + suffix;
}
