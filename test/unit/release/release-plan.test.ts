import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isEmbeddedPath } from "../../../core/base/binary";
import { parseChecksums, writeChecksums } from "../../../scripts/release/checksums";
import { buildScriptArgs, compileArgs } from "../../../scripts/release/compile";
import { installLines } from "../../../scripts/release/install-lines";
import { cachedRuntimePath, pinnedBunVersion, runtimeCacheDir } from "../../../scripts/release/runtimes";
import {
  RELEASE_URL,
  TARGETS,
  assetName,
  bunTarget,
  runtimePackage,
  targetById,
} from "../../../scripts/release/targets";
import { REPO, removeDir } from "../../helpers/workspace";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));

describe("release targets", () => {
  test("the five platforms and three x64 baseline builds, with Bun's target and runtime package names", () => {
    expect(TARGETS.map((t) => [assetName(t), bunTarget(t), runtimePackage(t)])).toEqual([
      ["flash-linux-x64", "bun-linux-x64", "@oven/bun-linux-x64"],
      ["flash-linux-x64-baseline", "bun-linux-x64-baseline", "@oven/bun-linux-x64-baseline"],
      ["flash-linux-arm64", "bun-linux-arm64", "@oven/bun-linux-aarch64"],
      ["flash-darwin-x64", "bun-darwin-x64", "@oven/bun-darwin-x64"],
      ["flash-darwin-x64-baseline", "bun-darwin-x64-baseline", "@oven/bun-darwin-x64-baseline"],
      ["flash-darwin-arm64", "bun-darwin-arm64", "@oven/bun-darwin-aarch64"],
      ["flash-windows-x64.exe", "bun-windows-x64", "@oven/bun-windows-x64"],
      ["flash-windows-x64-baseline.exe", "bun-windows-x64-baseline", "@oven/bun-windows-x64-baseline"],
    ]);
    expect(() => targetById("linux-riscv64")).toThrow('unknown release target "linux-riscv64"');
  });

  test("Bun is pinned once: package.json's packageManager, the version .ci/run installs and the running bun", () => {
    const pinned = pinnedBunVersion(pkg);
    expect(readFileSync(join(REPO, ".ci", "run"), "utf8")).toContain(`bun@${pinned}`);
    expect(Bun.version).toBe(pinned);
    expect(() => pinnedBunVersion({})).toThrow('"packageManager": "bun@<version>"');
  });

  test("runtimes are cached outside the repository, one folder per Bun version and package", () => {
    expect(runtimeCacheDir({ HOME: "/h", XDG_CACHE_HOME: "/x" })).toBe("/x/flash-release");
    expect(runtimeCacheDir({ FLASH_RELEASE_CACHE: "/c" })).toBe("/c");
    expect(cachedRuntimePath("/c", targetById("windows-x64-baseline"), "1.4.5")).toBe(
      "/c/bun-1.4.5/@oven+bun-windows-x64-baseline/bin/bun.exe",
    );
  });
});

describe("compiling", () => {
  test("uses the build script's entry points and flags, replacing only the output", () => {
    const args = buildScriptArgs(pkg.scripts.build);
    expect(args).toContain("./cli.ts");
    expect(args).toContain("./core/remote/worker/pool-entry.ts");
    for (const flag of ["--compile", "--compile-autoload-package-json", "--bytecode", "--format=esm", "--minify"])
      expect(args).toContain(flag);
    expect(args.join(" ")).not.toContain("--outfile");
    expect(args.join(" ")).not.toContain("ln ");
    expect(() => buildScriptArgs("tsc && bun build x")).toThrow("not a");
  });

  test("a cross compile names the target, the downloaded runtime and the commit", () => {
    const args = compileArgs(
      {
        buildScript: "bun build ./cli.ts --compile --outfile ./dist/flash",
        target: targetById("windows-x64"),
        runtime: "/c/bun.exe",
        commit: "abc123",
        outfile: "/out/flash-windows-x64.exe",
      },
      "/tmp/x/flash",
    );
    expect(args).toEqual([
      "build",
      "./cli.ts",
      "--compile",
      "--target=bun-windows-x64",
      "--compile-executable-path=/c/bun.exe",
      "--define",
      'FLASH_COMMIT="abc123"',
      "--outfile",
      "/tmp/x/flash",
    ]);
  });
});

describe("running from the compiled binary's embedded file system", () => {
  test("recognises Bun's embedded paths on Linux, macOS and Windows, and nothing else", () => {
    expect(isEmbeddedPath("/$bunfs/root/cli.js")).toBe(true);
    expect(isEmbeddedPath("B:\\~BUN\\root\\cli.js")).toBe(true);
    expect(isEmbeddedPath("B:/~BUN/root/cli.js")).toBe(true);
    expect(isEmbeddedPath("/home/me/$bunfs/cli.ts")).toBe(false);
    expect(isEmbeddedPath("C:\\Users\\me\\~BUN\\cli.ts")).toBe(false);
    expect(isEmbeddedPath("/work/flash/cli.ts")).toBe(false);
  });
});

describe("SHA256SUMS", () => {
  test("written as sha256sum writes it (the release test runs sha256sum -c on a real one) and read back", () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-sums-"));
    try {
      writeFileSync(join(dir, "flash-b"), "bbb");
      writeFileSync(join(dir, "flash-a.exe"), "aaa");
      const text = writeChecksums(join(dir, "SHA256SUMS"), [join(dir, "flash-b"), join(dir, "flash-a.exe")]);
      expect(text).toBe(
        "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0  flash-a.exe\n" +
          "3e744b9dc39389baf0c5a0660589b8402f3dbb49b89b3e75f2c9355852a3c677  flash-b\n",
      );
      expect(parseChecksums(`${text}${"0".repeat(64)} *binary-mode\njunk\n`)).toEqual(
        new Map([
          ["flash-a.exe", "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"],
          ["flash-b", "3e744b9dc39389baf0c5a0660589b8402f3dbb49b89b3e75f2c9355852a3c677"],
          ["binary-mode", "0".repeat(64)],
        ]),
      );
    } finally {
      removeDir(dir);
    }
  });
});

describe("README install lines", () => {
  const lines = installLines(readFileSync(join(REPO, "README.md"), "utf8"));

  test("one per platform, each downloading a release asset and checking it against SHA256SUMS", () => {
    expect(lines.map((l) => [l.platform, l.asset])).toEqual([
      ["Linux x64", "flash-linux-x64"],
      ["Linux arm64", "flash-linux-arm64"],
      ["macOS Apple silicon", "flash-darwin-arm64"],
      ["macOS Intel", "flash-darwin-x64"],
      ["Windows x64 (PowerShell)", "flash-windows-x64.exe"],
    ]);
    const assets = TARGETS.map(assetName);
    for (const l of lines) {
      expect(assets).toContain(l.asset);
      expect(l.line).toContain(`${RELEASE_URL}`);
      expect(l.line).toContain("SHA256SUMS");
    }
    expect(lines.find((l) => l.platform === "Linux x64")!.line).toContain("sha256sum -c --ignore-missing");
    expect(lines.find((l) => l.platform === "macOS Intel")!.line).toContain("shasum -a 256 -c --ignore-missing");
    expect(lines.find((l) => l.shell === "powershell")!.line).toContain("Get-FileHash");
  });

  test("the baseline assets it names exist", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const t of TARGETS.filter((t) => t.baseline)) expect(readme).toContain(`\`${assetName(t)}\``);
  });
});
