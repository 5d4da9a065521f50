/**
 * The npm packages of a release, laid out as esbuild and Bun lay out theirs: one package per platform holding the
 * binary (`os`/`cpu` set, so npm installs only the one that fits), and a small main package whose `bin` is a Node
 * launcher and whose optionalDependencies are the platform packages. No install script: it works with
 * `--ignore-scripts`, pnpm and yarn alike.
 */
import { copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runtimeTypes } from "../../core/workspace/runtime-types";
import { NPM_PACKAGE, RELEASE_URL, type ReleaseTarget, TARGETS, packageBinPath, platformPackage } from "./targets";

/** The targets that get an npm package: every non-baseline one. */
export const NPM_TARGETS: readonly ReleaseTarget[] = TARGETS.filter((t) => !t.baseline);

const REPOSITORY = "https://github.com/flash-sh/flash";

/** The license of every package (the repository's LICENSE, copied into each), as runpod/flash and flash-examples. */
const LICENSE = "MIT";
const LICENSE_FILE = join(import.meta.dir, "..", "..", "LICENSE");

/** Where the main package keeps the declarations of `flash` (and, beside them, elysia's, typebox's, consola's). */
const TYPES_ENTRY = "types/flash/index.d.ts";
const DESCRIPTION = "flash: write, serve and test serverless GPU/CPU functions and their examples (single binary)";

/** package.json of a platform package. */
export function platformManifest(t: ReleaseTarget, version: string): Record<string, unknown> {
  return {
    name: platformPackage(t),
    version,
    description: `The ${t.id} binary of flash (installed by ${NPM_PACKAGE})`,
    license: LICENSE,
    repository: REPOSITORY,
    os: [t.os],
    cpu: [t.cpu],
    // Bun's Linux runtime links against glibc (npm skips the package on musl, e.g. Alpine).
    ...(t.os === "linux" ? { libc: ["glibc"] } : {}),
    preferUnplugged: true,
  };
}

/** package.json of the main package. */
export function mainManifest(version: string): Record<string, unknown> {
  return {
    name: NPM_PACKAGE,
    version,
    description: DESCRIPTION,
    license: LICENSE,
    repository: REPOSITORY,
    bin: { flash: "bin/flash.js" },
    types: TYPES_ENTRY,
    engines: { node: ">=18" },
    optionalDependencies: Object.fromEntries(NPM_TARGETS.map((t) => [platformPackage(t), version])),
  };
}

/** Write a platform package's folder: package.json, README and the binary under bin/. */
export function writePlatformPackage(dir: string, t: ReleaseTarget, version: string, binary: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(platformManifest(t, version), null, 2)}\n`);
  writeFileSync(
    join(dir, "README.md"),
    `# ${platformPackage(t)}\n\nThe ${t.id} binary of flash. Install \`${NPM_PACKAGE}\`, which picks it for you.\n`,
  );
  // A hard link where the file system allows one: npm pack only reads it, and a copy is ~100 MB of writes.
  try {
    linkSync(binary, join(dir, packageBinPath(t.os)));
  } catch {
    copyFileSync(binary, join(dir, packageBinPath(t.os)));
  }
  copyFileSync(LICENSE_FILE, join(dir, "LICENSE"));
}

/** The main package's `bin/flash.js`: the launcher, bundled for Node, with a shebang. */
export async function bundleLauncher(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "launcher-main.ts")],
    target: "node",
    format: "cjs",
  });
  if (!result.success) throw new Error(`bundling the launcher failed: ${result.logs.join("\n")}`);
  return `#!/usr/bin/env node\n${await result.outputs[0]!.text()}`;
}

/** Write the main package's folder: package.json, README and the launcher. */
export function writeMainPackage(dir: string, version: string, launcher: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(mainManifest(version), null, 2)}\n`);
  writeFileSync(join(dir, "bin", "flash.js"), launcher, { mode: 0o755 });
  copyFileSync(LICENSE_FILE, join(dir, "LICENSE"));
  for (const [rel, content] of Object.entries(runtimeTypes())) {
    mkdirSync(dirname(join(dir, "types", rel)), { recursive: true });
    writeFileSync(join(dir, "types", rel), content);
  }
  writeFileSync(
    join(dir, "README.md"),
    [
      `# ${NPM_PACKAGE}`,
      "",
      DESCRIPTION,
      "",
      "```sh",
      `npm install -g ${NPM_PACKAGE}    # then: flash init, flash run --watch`,
      `npx ${NPM_PACKAGE} run --watch`,
      "```",
      "",
      `npm installs the binary for your platform (${NPM_TARGETS.map((t) => t.id).join(", ")}) from`,
      `\`${NPM_PACKAGE}-<platform>\`. For x64 CPUs without AVX2 use the \`-baseline\` binaries of the GitHub release`,
      `(${RELEASE_URL}) and point \`FLASH_BINARY_PATH\` at one, or run it directly.`,
      "",
    ].join("\n"),
  );
}

/** `npm pack` a package folder into `dest`; returns the tarball's path. */
export async function npmPack(dir: string, dest: string): Promise<string> {
  mkdirSync(dest, { recursive: true });
  const proc = Bun.spawn(["npm", "pack", "--json", "--pack-destination", dest], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`npm pack in ${dir} failed (exit ${code}): ${err.trim()}`);
  const [info] = JSON.parse(out) as { filename: string }[];
  if (!info) throw new Error(`npm pack in ${dir} printed no tarball`);
  return join(dest, info.filename);
}

/**
 * `npm install -g` these tarballs into `prefix` with no registry (offline, empty cache): what a user gets from
 * `npm install -g @flash-sh/cli`, with the platform package taken from its tarball. Returns the `flash` command.
 */
export async function npmInstallOffline(tarballs: string[], prefix: string): Promise<string> {
  const cache = join(prefix, ".npm-cache");
  const proc = Bun.spawn(
    ["npm", "install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", ...tarballs],
    {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, npm_config_cache: cache, npm_config_update_notifier: "false" },
    },
  );
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  rmSync(cache, { recursive: true, force: true });
  if (code !== 0) throw new Error(`npm install -g of ${tarballs.length} tarballs failed (exit ${code}): ${err.trim()}`);
  return process.platform === "win32" ? join(prefix, "flash.cmd") : join(prefix, "bin", "flash");
}

/** The file name `npm pack` gives a package's tarball: `@flash-sh/cli` 0.1.0 → `flash-sh-cli-0.1.0.tgz`. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}
