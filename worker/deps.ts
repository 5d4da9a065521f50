/**
 * Dependency installation for the Runpod worker program: npm packages into a cache folder per dependency set
 * (installed once, reused by every later job and worker on the same disk), apt packages when running as root.
 */
import { shortHash } from "../core/base/fs";
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where installed packages and shipped bundles live: FLASH_WORKER_CACHE, the network volume, or ~/.cache. */
function cacheRoot(): string {
  const dir =
    process.env.FLASH_WORKER_CACHE ||
    (existsSync("/runpod-volume") ? "/runpod-volume/.cache/flash-worker" : join(homedir(), ".cache", "flash-worker"));
  mkdirSync(dir, { recursive: true });
  // Stack traces name real paths, and the executor finds functions by the path in the stack: no symlinks.
  return realpathSync(dir);
}

/** Result of preparing a job's dependencies: the folder whose node_modules has them, and what was done. */
export interface Prepared {
  dir: string;
  notes: string[];
}

const installing = new Map<string, Promise<void>>();

/** Install `specs` (once per distinct set) and return the folder to put the job's bundle under. */
export async function ensureNpmDependencies(specs: string[] | undefined): Promise<Prepared> {
  const root = cacheRoot();
  const list = [...new Set(specs ?? [])].sort();
  if (!list.length) return { dir: join(root, "plain"), notes: [] };
  const dir = join(root, "deps", shortHash(JSON.stringify(list)));
  if (existsSync(join(dir, ".installed"))) return { dir, notes: [] };
  const started = performance.now();
  let pending = installing.get(dir);
  if (!pending) {
    pending = install(dir, list).finally(() => installing.delete(dir));
    installing.set(dir, pending);
  }
  await pending;
  return {
    dir,
    notes: [`[flash worker] installed ${list.join(", ")} in ${(performance.now() - started).toFixed(0)} ms`],
  };
}

async function install(dir: string, specs: string[]): Promise<void> {
  // Install beside the final folder, then rename: another worker on the same cache never sees a half install.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(
    join(tmp, "package.json"),
    JSON.stringify({ name: "flash-worker-deps", private: true, dependencies: {} }),
  );
  const proc = Bun.spawn([process.execPath, "add", ...specs], {
    cwd: tmp,
    env: { ...process.env, BUN_BE_BUN: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const detail = (err || out).trim().split("\n").slice(-8).join("\n");
    throw new DependencyError(`installing ${specs.join(", ")} failed (bun add exited with ${code}):\n${detail}`);
  }
  writeFileSync(join(tmp, ".installed"), new Date().toISOString());
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker finished first; use its install
    if (!existsSync(join(dir, ".installed")))
      throw new DependencyError(`installing ${specs.join(", ")}: cache folder ${dir} is unusable`);
  }
}

/** A dependency could not be installed. */
export class DependencyError extends Error {
  override name = "DependencyError";
}

const aptDone = new Set<string>();

/** apt packages: installed with apt-get when root (once per set and process), else only checked. */
export async function ensureSystemDependencies(packages: string[] | undefined): Promise<string[]> {
  const list = [...new Set(packages ?? [])].sort();
  if (!list.length || aptDone.has(list.join(" "))) return [];
  const missing: string[] = [];
  for (const p of list) if ((await run(["dpkg", "-s", p])).code !== 0) missing.push(p);
  if (!missing.length) {
    aptDone.add(list.join(" "));
    return [];
  }
  if (process.env.FLASH_WORKER_APT === "check") {
    // Set by the local emulator: its workers run on the developer's own machine, which flash must not change.
    return [
      `[flash worker] missing system packages ${missing.join(", ")} (the emulator does not apt-get install on this machine; set FLASH_EMULATOR_APT=install to allow it)`,
    ];
  }
  if (process.getuid?.() !== 0) {
    return [`[flash worker] not root: cannot apt-get install ${missing.join(", ")} (bake them into the image instead)`];
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = await run(["apt-get", "update"], env);
  if (update.code !== 0) throw new DependencyError(`apt-get update failed:\n${update.output.slice(-800)}`);
  const res = await run(["apt-get", "install", "-y", "--no-install-recommends", ...missing], env);
  if (res.code !== 0)
    throw new DependencyError(`apt-get install ${missing.join(" ")} failed:\n${res.output.slice(-800)}`);
  aptDone.add(list.join(" "));
  return [`[flash worker] apt-get installed ${missing.join(", ")}`];
}

async function run(cmd: string[], env?: Record<string, string | undefined>): Promise<{ code: number; output: string }> {
  try {
    const proc = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, output: out + err };
  } catch (err) {
    return { code: 127, output: String((err as Error).message) };
  }
}
