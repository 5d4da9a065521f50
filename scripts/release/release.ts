#!/usr/bin/env bun
/**
 * `bun run release`: the flash binary for every platform, from the runtimes of the pinned Bun version (npm registry,
 * cached outside git), into dist/release/ with SHA256SUMS and the npm packages' tarballs.
 *
 *   bun run release                      every target (downloads each runtime once, then works offline)
 *   bun run release --host               this machine's target only, compiled with the running bun (no download)
 *   bun run release --targets linux-x64,darwin-arm64 --out /tmp/rel
 */
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { logger } from "../../core/base/log";
import { writeChecksums } from "./checksums";
import { compileBinary, currentCommit } from "./compile";
import { ensureValidSignature } from "./macho-sign";
import { NPM_TARGETS, bundleLauncher, npmPack, writeMainPackage, writePlatformPackage } from "./npm-packages";
import { ensureRuntime, pinnedBunVersion, runtimeCacheDir } from "./runtimes";
import { type ReleaseTarget, TARGETS, assetName, platformPackage, targetById, targetFor } from "./targets";

const log = logger("release");
const ROOT = resolve(import.meta.dir, "..", "..");

/** What a release run is asked to do. */
export interface ReleaseOptions {
  targets: ReleaseTarget[];
  out: string;
  /** Compile the host target with the running bun instead of the pinned runtime from npm. */
  localBun: boolean;
  npm: boolean;
}

/** What a release run wrote. */
export interface ReleaseResult {
  commit: string;
  version: string;
  bunVersion: string;
  binaries: { target: ReleaseTarget; path: string; bytes: number }[];
  checksums: string;
  tarballs: string[];
  seconds: number;
}

/** Run items with at most `limit` at once (compiles are CPU-bound; downloads share the link). */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Build the release: binaries, SHA256SUMS, npm tarballs. */
export async function release(o: ReleaseOptions): Promise<ReleaseResult> {
  const started = performance.now();
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as {
    version: string;
    packageManager?: string;
    scripts: { build: string };
  };
  const bunVersion = pinnedBunVersion(pkg);
  const host = targetFor(process.platform, process.arch);
  if (o.localBun && Bun.version !== bunVersion) {
    throw new Error(`--host compiles with the running bun ${Bun.version}, but package.json pins bun ${bunVersion}`);
  }
  const commit = currentCommit(ROOT);
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });
  log.info(`flash ${pkg.version} (commit ${commit}) with bun ${bunVersion} → ${relative(process.cwd(), o.out) || "."}`);

  // Every target embeds the runtime from npm, the host's too: the running bun may be another build of the same
  // version (npm's `bun` package installs the baseline one on some machines). --host alone uses the running bun.
  const cache = runtimeCacheDir();
  const runtimes = await pooled(o.targets, 4, async (t) => {
    if (o.localBun && t === host) return undefined;
    if (o.localBun) throw new Error(`--host cannot build ${t.id}`);
    return ensureRuntime(cache, t, bunVersion);
  });

  const binaries = await pooled(o.targets, 2, async (t) => {
    const path = join(o.out, assetName(t));
    const runtime = runtimes[o.targets.indexOf(t)];
    const t0 = performance.now();
    await compileBinary({ root: ROOT, buildScript: pkg.scripts.build, target: t, runtime, commit, outfile: path });
    // Bun 1.4.5 leaves darwin-x64's code signature stale (oven-sh/bun#39837): macOS would kill that binary.
    const resigned = t.os === "darwin" && (await ensureValidSignature(path, "flash"));
    const bytes = statSync(path).size;
    if (resigned) log.info(`${assetName(t)}: code signature did not match the binary, signed it again (ad hoc)`);
    log.info(
      `${assetName(t).padEnd(30)} ${(bytes / 1e6).toFixed(1).padStart(6)} MB  ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    return { target: t, path, bytes };
  });
  const checksums = writeChecksums(
    join(o.out, "SHA256SUMS"),
    binaries.map((b) => b.path),
  );
  // The binaries are final from here on (the npm packages only copy them): a caller can start using them now.
  log.info(`SHA256SUMS written for ${binaries.length} binaries`);

  const tarballs: string[] = [];
  if (o.npm) {
    const staging = join(o.out, ".npm");
    const dest = join(o.out, "npm");
    try {
      // Two at a time: npm pack spends its time gzipping ~100 MB on one core. The small main package is packed
      // meanwhile (its npm start-up would otherwise follow the slowest platform package).
      const [packed, main] = await Promise.allSettled([
        pooled(
          binaries.filter((b) => NPM_TARGETS.includes(b.target)),
          2,
          async (b) => {
            const dir = join(staging, platformPackage(b.target));
            writePlatformPackage(dir, b.target, pkg.version, b.path);
            const tarball = await npmPack(dir, dest);
            rmSync(dir, { recursive: true, force: true }); // a link to (or a copy of) a ~100 MB binary
            return tarball;
          },
        ),
        (async () => {
          const mainDir = join(staging, "main");
          writeMainPackage(mainDir, pkg.version, await bundleLauncher());
          return npmPack(mainDir, dest);
        })(),
      ]);
      if (packed.status === "rejected") throw packed.reason;
      if (main.status === "rejected") throw main.reason;
      tarballs.push(...packed.value, main.value);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    log.info(`npm: ${tarballs.map((t) => relative(o.out, t)).join(", ")}`);
  }
  const seconds = (performance.now() - started) / 1000;
  log.success(`release of ${binaries.length} binaries in ${seconds.toFixed(1)} s`);
  return { commit, version: pkg.version, bunVersion, binaries, checksums, tarballs, seconds };
}

/** Parse the command line into release options. */
export function parseReleaseArgs(argv: string[]): ReleaseOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      targets: { type: "string" },
      host: { type: "boolean", default: false },
      out: { type: "string" },
      "no-npm": { type: "boolean", default: false },
    },
    strict: true,
  });
  const host = targetFor(process.platform, process.arch);
  if (values.host && !host) throw new Error(`no release target for this machine (${process.platform}-${process.arch})`);
  const targets = values.host ? [host!] : values.targets ? values.targets.split(",").map(targetById) : [...TARGETS];
  return {
    targets,
    out: resolve(values.out ?? join(ROOT, "dist", "release")),
    localBun: values.host,
    npm: !values["no-npm"],
  };
}

if (import.meta.main) {
  try {
    await release(parseReleaseArgs(process.argv.slice(2)));
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
