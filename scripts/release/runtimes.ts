/**
 * Bun's runtime for each release target, taken from the npm registry (`@oven/bun-<platform>`) and kept in a cache
 * outside the repository, so a release needs the network once per Bun version and is offline after that.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type ReleaseTarget, runtimeBinPath, runtimePackage } from "./targets";

/** The Bun version releases are built with: package.json's `packageManager` (`bun@x.y.z`). */
export function pinnedBunVersion(packageJson: { packageManager?: string }): string {
  const m = /^bun@(\d+\.\d+\.\d+)$/.exec(packageJson.packageManager ?? "");
  if (!m) throw new Error(`package.json needs "packageManager": "bun@<version>" to pin the release's Bun`);
  return m[1]!;
}

/** The cache folder for downloaded runtimes: $FLASH_RELEASE_CACHE, else ~/.cache/flash-release. */
export function runtimeCacheDir(env: Record<string, string | undefined> = process.env): string {
  return env.FLASH_RELEASE_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "flash-release");
}

/** Where the runtime for this target and Bun version lies in the cache (whether or not it is there yet). */
export function cachedRuntimePath(cacheDir: string, t: ReleaseTarget, bunVersion: string): string {
  return join(cacheDir, `bun-${bunVersion}`, runtimePackage(t).replace("/", "+"), runtimeBinPath(t));
}

/**
 * The path of Bun's runtime for this target: from the cache, or fetched with `npm pack` (which checks the
 * tarball against the registry's integrity hash) and unpacked into the cache first.
 */
export async function ensureRuntime(cacheDir: string, t: ReleaseTarget, bunVersion: string): Promise<string> {
  const bin = cachedRuntimePath(cacheDir, t, bunVersion);
  if (existsSync(bin)) return bin;
  const pkgDir = join(bin, "..", "..");
  mkdirSync(join(pkgDir, ".."), { recursive: true });
  const tmp = mkdtempSync(`${pkgDir}.tmp-`);
  try {
    const spec = `${runtimePackage(t)}@${bunVersion}`;
    const pack = Bun.spawn(["npm", "pack", spec, "--json", "--pack-destination", tmp], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(pack.stdout).text(),
      new Response(pack.stderr).text(),
      pack.exited,
    ]);
    if (code !== 0) throw new Error(`npm pack ${spec} failed (exit ${code}): ${err.trim().split("\n").pop()}`);
    const [info] = JSON.parse(out) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${spec} printed no tarball`);
    const untar = Bun.spawnSync(["tar", "xzf", join(tmp, info.filename), "-C", tmp], { stderr: "pipe" });
    if (untar.exitCode !== 0) throw new Error(`unpacking ${info.filename} failed: ${untar.stderr.toString().trim()}`);
    const unpacked = join(tmp, "package");
    if (!existsSync(join(unpacked, runtimeBinPath(t)))) throw new Error(`${spec} has no ${runtimeBinPath(t)}`);
    chmodSync(join(unpacked, runtimeBinPath(t)), 0o755);
    rmSync(pkgDir, { recursive: true, force: true });
    renameSync(unpacked, pkgDir); // whole folder at once: a killed download never leaves a half runtime behind
    return bin;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
