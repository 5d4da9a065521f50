import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, illegalInstructionHint, signalPlan } from "../../scripts/release/launcher";
import { bundleLauncher, mainManifest, platformManifest } from "../../scripts/release/npm-packages";
import { targetById } from "../../scripts/release/targets";
import { removeDir } from "../helpers/workspace";

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
    const main = mainManifest("1.2.3");
    expect(main.bin).toEqual({ flash: "bin/flash.js" });
    expect(main.optionalDependencies).toEqual({
      "@flash-sh/cli-linux-x64": "1.2.3",
      "@flash-sh/cli-linux-arm64": "1.2.3",
      "@flash-sh/cli-darwin-x64": "1.2.3",
      "@flash-sh/cli-darwin-arm64": "1.2.3",
      "@flash-sh/cli-windows-x64": "1.2.3",
    });
  });
});

// The bundled launcher under Node, in a node_modules layout as npm installs it, running a stand-in binary (a shell
// script) so arguments, exit codes and signals can be observed without compiling flash.
describe.skipIf(process.platform === "win32" || !Bun.which("node"))("the bundled launcher under node", () => {
  let root = "";
  let launcher = "";
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "flash-launcher-"));
    const host = `@flash-sh/cli-${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch}`;
    const binDir = join(root, "node_modules", host, "bin");
    mkdirSync(binDir, { recursive: true });
    mkdirSync(join(root, "node_modules", "@flash-sh", "cli", "bin"), { recursive: true });
    writeFileSync(join(root, "node_modules", host, "package.json"), "{}");
    writeFileSync(
      join(binDir, "flash"),
      [
        "#!/bin/sh",
        `trap 'echo "got TERM"; exit 7' TERM`,
        `if [ "$1" = wait ]; then echo ready; while :; do sleep 0.05; done; fi`,
        `printf '%s|' "$@"; echo`,
        `exit "\${FLASH_FAKE_EXIT:-0}"`,
      ].join("\n"),
    );
    chmodSync(join(binDir, "flash"), 0o755);
    launcher = join(root, "node_modules", "@flash-sh", "cli", "bin", "flash.js");
    writeFileSync(launcher, await bundleLauncher(), { mode: 0o755 });
  }, 30_000);
  afterAll(() => removeDir(root));

  test("passes arguments through and leaves with the binary's exit code", () => {
    const ok = Bun.spawnSync(["node", launcher, "run", "--port", "0", "a b"]);
    expect(ok.stdout.toString()).toBe("run|--port|0|a b|\n");
    expect(ok.exitCode).toBe(0);
    const failed = Bun.spawnSync(["node", launcher, "x"], { env: { ...process.env, FLASH_FAKE_EXIT: "3" } });
    expect(failed.exitCode).toBe(3);
  });

  test("forwards SIGTERM to the binary and waits for it", async () => {
    const proc = Bun.spawn(["node", launcher, "wait"], { stdout: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("ready")) out += new TextDecoder().decode((await reader.read()).value);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(7);
    out += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    expect(out).toContain("got TERM");
  }, 20_000);

  test("says what is wrong when the binary cannot start or its package is missing", () => {
    const res = Bun.spawnSync(["node", launcher], { env: { ...process.env, FLASH_BINARY_PATH: join(root, "nope") } });
    expect(res.exitCode).toBe(1);
    expect(res.stderr.toString()).toContain(`could not start ${join(root, "nope")}`);
    const elsewhere = mkdtempSync(join(tmpdir(), "flash-launcher-alone-")); // main package without platform package
    try {
      writeFileSync(join(elsewhere, "flash.js"), readFileSync(launcher));
      const missing = Bun.spawnSync(["node", join(elsewhere, "flash.js"), "--help"]);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr.toString()).toContain("is not installed");
    } finally {
      removeDir(elsewhere);
    }
  });
});
