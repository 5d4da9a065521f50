// `bun run release --host` end to end, for this machine's platform only and without the network: the binary is
// compiled with the running bun (other platforms need their runtimes from npm: `bun run release:check` covers them).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBinaryInfo } from "../../../scripts/release/binary-format";
import { parseChecksums, sha256File } from "../../../scripts/release/checksums";
import { installLines, runInstallLine, serveRelease } from "../../../scripts/release/install-lines";
import { npmInstallOffline, tarballName } from "../../../scripts/release/npm-packages";
import { pinnedBunVersion } from "../../../scripts/release/runtimes";
import { smoke } from "../../../scripts/release/smoke";
import { assetName, platformPackage, targetFor } from "../../../scripts/release/targets";
import { REPO, removeDir } from "../../helpers/workspace";
import type { Subprocess } from "bun";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const host = targetFor(process.platform, process.arch);
const runnable = !!host && process.platform !== "win32" && Bun.version === pinnedBunVersion(pkg) && !!Bun.which("npm");
const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: REPO }).stdout.toString().trim();

describe.skipIf(!runnable)("bun run release --host", () => {
  const out = mkdtempSync(join(tmpdir(), "flash-release-"));
  const prefix = mkdtempSync(join(tmpdir(), "flash-npm-global-"));
  const binary = join(out, assetName(host!));
  const npmDir = join(out, "npm");
  const platformTarball = join(npmDir, tarballName(platformPackage(host!), pkg.version));
  let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let output = "";
  /** The release's exit, with everything it printed. */
  let released: Promise<{ code: number; output: string }>;
  /** `npm install -g` of the tarballs, started as soon as the release has written them. */
  let installed: Promise<string>;
  let binarySha: string | undefined;
  /** The binary's SHA-256, computed once (it is ~100 MB). */
  const sha = () => (binarySha ??= sha256File(binary));

  beforeAll(async () => {
    const release = Bun.spawn([process.execPath, "run", "release", "--host", "--out", out], {
      cwd: REPO,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    proc = release;
    let binaryReady = () => {};
    const ready = new Promise<void>((resolve) => (binaryReady = resolve));
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        output += decoder.decode(chunk, { stream: true });
        if (output.includes("SHA256SUMS written")) binaryReady();
      }
    };
    released = Promise.all([read(release.stdout), read(release.stderr), release.exited]).then(([, , code]) => ({
      code,
      output,
    }));
    installed = released.then((r) => {
      if (r.code !== 0) throw new Error(`the release failed (exit ${r.code}):\n${r.output}`);
      return npmInstallOffline([platformTarball, join(npmDir, tarballName("@flash-sh/cli", pkg.version))], prefix);
    });
    installed.catch(() => {}); // awaited (and reported) by its test
    // The binary and SHA256SUMS are final before npm packing starts: the tests of the binary run while it packs.
    await Promise.race([ready, released]);
  }, 300_000);
  afterAll(async () => {
    if (proc?.exitCode === null) proc.kill();
    await released?.catch(() => {});
    await installed?.catch(() => {});
    removeDir(out);
    removeDir(prefix);
  });

  test("the binary is built for this platform and reports version, commit and Bun", () => {
    expect(existsSync(binary) ? "" : output).toBe("");
    const info = readBinaryInfo(readFileSync(binary));
    expect(info.format).toBe(({ linux: "elf", darwin: "mach-o", win32: "pe" } as const)[host!.os]);
    expect(info.arch).toBe(host!.cpu);
    const version = Bun.spawnSync([binary, "--version"]).stdout.toString();
    expect(version).toMatch(
      new RegExp(
        `^${pkg.version.replaceAll(".", "\\.")} \\(commit ${head}(-dirty)?, bun ${Bun.version}, ${process.platform}-${process.arch}\\)\\n$`,
      ),
    );
  }, 60_000);

  test("the binary serves a workspace: /health, a route, and a clean exit on SIGINT", async () => {
    const r = await smoke([binary]);
    expect(r.helpOk).toBe(true);
    expect(r.health.status).toBe("healthy");
    expect(r.health.examples?.map((e) => `${e.category}/${e.name}`)).toEqual(["01_smoke/01_hello"]);
    expect(r.health.errors).toEqual([]);
    expect(r.hello).toEqual({ hello: "from the release" });
    expect(r.exitCode).toBe(0);
  }, 90_000);

  test("the README's install line for this platform installs it, and refuses a tampered download", async () => {
    const line = installLines(readFileSync(join(REPO, "README.md"), "utf8")).find((l) => l.asset === assetName(host!));
    expect(line).toBeDefined();
    const good = serveRelease(out);
    const run = await runInstallLine(line!, good.url.href.replace(/\/$/, ""));
    try {
      expect(run.code).toBe(0);
      expect(sha256File(run.installed!)).toBe(sha());
      expect(Bun.spawnSync([run.installed!, "--version"]).exitCode).toBe(0);
    } finally {
      run.cleanup();
      good.stop(true);
    }
    const tamperedBytes = new Uint8Array(readFileSync(binary));
    tamperedBytes[tamperedBytes.length - 100]! ^= 1;
    const bad = serveRelease(out, { [assetName(host!)]: tamperedBytes });
    const refused = await runInstallLine(line!, bad.url.href.replace(/\/$/, ""));
    try {
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain("FAILED");
      expect(refused.installed).toBeUndefined();
    } finally {
      refused.cleanup();
      bad.stop(true);
    }
  }, 60_000);

  test("writes the binary, SHA256SUMS that sha256sum -c accepts, and the npm tarballs", async () => {
    const { code, output } = await released;
    expect(output).toContain("release of 1 binaries");
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["SHA256SUMS", assetName(host!), "npm"]);
    const sums = parseChecksums(readFileSync(join(out, "SHA256SUMS"), "utf8"));
    expect([...sums.keys()]).toEqual([assetName(host!)]);
    expect(sums.get(assetName(host!))).toBe(sha());
    if (Bun.which("sha256sum")) {
      const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: out });
      expect(check.stdout.toString()).toBe(`${assetName(host!)}: OK\n`);
    }
    expect(readdirSync(npmDir).sort()).toEqual(
      [tarballName("@flash-sh/cli", pkg.version), tarballName(platformPackage(host!), pkg.version)].sort(),
    );
  }, 180_000);

  test("npm install -g of the tarballs (offline) gives a flash that runs the same binary", async () => {
    await released;
    const listing = Bun.spawnSync(["tar", "tzf", platformTarball]).stdout.toString().split("\n").sort();
    expect(listing.filter(Boolean)).toEqual([
      "package/LICENSE",
      "package/README.md",
      "package/bin/flash",
      "package/package.json",
    ]);
    const flash = await installed;
    const installedBinary = join(prefix, "lib", "node_modules", platformPackage(host!), "bin", "flash");
    expect(sha256File(installedBinary)).toBe(sha());
    // Through the Node launcher: arguments, exit status and SIGINT reach the binary (smoke stops it with SIGINT).
    const r = await smoke([flash]);
    expect(r.version).toBe(Bun.spawnSync([binary, "--version"]).stdout.toString().trim());
    expect(r.helpOk).toBe(true);
    expect(r.health.status).toBe("healthy");
    expect(r.hello).toEqual({ hello: "from the release" });
    expect(r.exitCode).toBe(0);
    const unknown = Bun.spawnSync([flash, "no-such-command"]);
    expect(unknown.exitCode).toBe(Bun.spawnSync([binary, "no-such-command"]).exitCode);
  }, 180_000);
});
