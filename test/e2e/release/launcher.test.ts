import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleLauncher } from "../../../scripts/release/npm-packages";
import { removeDir } from "../../helpers/workspace";

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
  }, 30_000);

  test("forwards SIGTERM to the binary and waits for it", async () => {
    const proc = Bun.spawn(["node", launcher, "wait"], { stdout: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("ready")) out += new TextDecoder().decode((await reader.read()).value);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(7);
    out += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    expect(out).toContain("got TERM");
  }, 30_000);

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
  }, 30_000);
});
