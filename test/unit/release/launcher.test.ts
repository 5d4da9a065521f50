import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, illegalInstructionHint, signalPlan } from "../../../scripts/release/launcher";
import { mainManifest, platformManifest, writeMainPackage } from "../../../scripts/release/npm-packages";
import { targetById } from "../../../scripts/release/targets";

/** A resolver that finds the packages under a fake node_modules root. */
const installedAt =
  (root: string, ...names: string[]): ((spec: string) => string | undefined) =>
  (spec) => {
    const name = spec.replace(/\/package\.json$/, "");
    return names.includes(name) ? join(root, "node_modules", name, "package.json") : undefined;
  };

describe("the launcher's choices, for every platform", () => {
  test("picks the platform package's binary, with .exe on Windows", () => {
    const cases: [string, string, string][] = [
      ["linux", "x64", "@flash-sh/cli-linux-x64/bin/flash"],
      ["linux", "arm64", "@flash-sh/cli-linux-arm64/bin/flash"],
      ["darwin", "x64", "@flash-sh/cli-darwin-x64/bin/flash"],
      ["darwin", "arm64", "@flash-sh/cli-darwin-arm64/bin/flash"],
      ["win32", "x64", "@flash-sh/cli-windows-x64/bin/flash.exe"],
    ];
    for (const [platform, arch, want] of cases) {
      const pkg = want.split("/bin/")[0]!;
      expect(findBinary(platform, arch, {}, installedAt("/r", pkg))).toEqual({
        binary: join("/r", "node_modules", want),
      });
    }
  });

  test("explains an unsupported platform, a missing package, and honours FLASH_BINARY_PATH", () => {
    const none = findBinary("freebsd", "x64", {}, () => undefined);
    expect("error" in none && none.error).toContain("no binary for freebsd-x64");
    expect("error" in none && none.error).toContain("linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64");
    const missing = findBinary("win32", "x64", {}, () => undefined);
    expect("error" in missing && missing.error).toContain("@flash-sh/cli-windows-x64 is not installed");
    expect("error" in missing && missing.error).toContain("--omit=optional");
    expect(findBinary("linux", "ia32", { FLASH_BINARY_PATH: "/opt/flash" }, () => undefined)).toEqual({
      binary: "/opt/flash",
    });
  });

  test("signals: forwarded on Linux and macOS, left to the console on Windows", () => {
    expect(signalPlan("linux")).toEqual({ catch: ["SIGINT", "SIGTERM", "SIGHUP"], forward: true });
    expect(signalPlan("darwin").forward).toBe(true);
    expect(signalPlan("win32")).toEqual({ catch: ["SIGINT", "SIGBREAK"], forward: false });
  });

  test("SIGILL on x64 points at the baseline build", () => {
    expect(illegalInstructionHint("linux", "x64", "SIGILL")).toContain("/flash-linux-x64-baseline");
    expect(illegalInstructionHint("win32", "x64", "SIGILL")).toContain("/flash-windows-x64-baseline.exe");
    expect(illegalInstructionHint("darwin", "arm64", "SIGILL")).toBeUndefined();
    expect(illegalInstructionHint("linux", "x64", "SIGSEGV")).toBeUndefined();
  });

  test("package manifests: os/cpu (and glibc on Linux) on platform packages, all five as optionalDependencies", () => {
    expect(platformManifest(targetById("windows-x64"), "1.2.3")).toMatchObject({
      name: "@flash-sh/cli-windows-x64",
      version: "1.2.3",
      os: ["win32"],
      cpu: ["x64"],
    });
    expect(platformManifest(targetById("windows-x64"), "1.2.3").libc).toBeUndefined();
    expect(platformManifest(targetById("linux-arm64"), "1.2.3")).toMatchObject({ libc: ["glibc"], cpu: ["arm64"] });
    expect(platformManifest(targetById("linux-arm64"), "1.2.3").license).toBe("MIT");
    const main = mainManifest("1.2.3");
    expect(main.bin).toEqual({ flash: "bin/flash.js" });
    expect(main).toMatchObject({ license: "MIT", types: "types/flash/index.d.ts" });
    expect(main.optionalDependencies).toEqual({
      "@flash-sh/cli-linux-x64": "1.2.3",
      "@flash-sh/cli-linux-arm64": "1.2.3",
      "@flash-sh/cli-darwin-x64": "1.2.3",
      "@flash-sh/cli-darwin-arm64": "1.2.3",
      "@flash-sh/cli-windows-x64": "1.2.3",
    });
  });
});

describe("the main npm package's folder", () => {
  test("carries the LICENSE and, at its types entry, the declarations of flash beside elysia's", () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-npm-main-"));
    try {
      writeMainPackage(dir, "1.2.3", "#!/usr/bin/env node\n");
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      expect(readFileSync(join(dir, "LICENSE"), "utf8")).toStartWith("MIT License");
      expect(readFileSync(join(dir, manifest.types), "utf8")).toContain("GpuGroup");
      expect(existsSync(join(dir, "types", "node_modules", "elysia", "package.json"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
