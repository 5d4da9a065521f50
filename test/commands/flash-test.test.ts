import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, makeWorkspace, removeDir, writeFiles } from "../helpers/workspace";
import { warmRuntimeTypes } from "../helpers/runtime-types";

warmRuntimeTypes();

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** A test file that imports "flash" and checks a router answers. */
function exampleTest(label: string, pass = true): string {
  return `import { expect, test } from "bun:test";
import { Elysia } from "flash";
test(${JSON.stringify(label)}, async () => {
  const app = new Elysia().get("/", () => "ok");
  const res = await app.handle(new Request("http://localhost/"));
  expect(await res.text()).toBe(${JSON.stringify(pass ? "ok" : "not ok")});
});
`;
}

function run(
  cmd: string[],
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): { code: number; out: string } {
  const res = Bun.spawnSync(cmd, { cwd, env: { ...env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  return { code: res.exitCode, out: res.stdout.toString() + res.stderr.toString() };
}

function flashTest(cwd: string, ...args: string[]): { code: number; out: string } {
  return run([process.execPath, join(REPO, "cli.ts"), "test", ...args], cwd);
}

describe("flash test (from source)", () => {
  const ws = makeWorkspace(
    {
      "01_cat/01_alpha/alpha.test.ts": exampleTest("alpha works"),
      "01_cat/02_beta/beta.test.ts": exampleTest("beta works"),
      "02_other/01_gamma/gamma.test.ts": exampleTest("gamma works"),
    },
    "flash-test-",
  );
  dirs.push(ws);

  test("the whole workspace", () => {
    const r = flashTest(ws);
    expect(r.code).toBe(0);
    expect(r.out).toContain("3 pass");
    for (const name of ["alpha works", "beta works", "gamma works"]) expect(r.out).toContain(name);
  }, 30_000);

  test("one example, by path from the root or from anywhere inside the workspace", () => {
    const fromRoot = flashTest(ws, "01_cat/02_beta");
    expect(fromRoot.code).toBe(0);
    expect(fromRoot.out).toContain("beta works");
    expect(fromRoot.out).toContain("1 pass");
    const fromCategory = flashTest(join(ws, "01_cat"), "01_alpha");
    expect(fromCategory.out).toContain("alpha works");
    expect(fromCategory.out).toContain("1 pass");
    expect(fromCategory.code).toBe(0);
  }, 30_000);

  test("run inside an example or category with no path: just that part", () => {
    const inExample = flashTest(join(ws, "02_other/01_gamma"));
    expect(inExample.out).toContain("gamma works");
    expect(inExample.out).toContain("1 pass");
    const inCategory = flashTest(join(ws, "01_cat"));
    expect(inCategory.out).toContain("2 pass");
    expect(inCategory.out).not.toContain("gamma works");
  }, 30_000);

  test("arguments after -- go to bun test", () => {
    const r = flashTest(ws, "--", "-t", "gamma");
    expect(r.code).toBe(0);
    expect(r.out).toContain("1 pass");
    expect(r.out).toContain("gamma works");
  }, 30_000);

  test("a failing test fails the command", () => {
    const bad = makeWorkspace({ "01_cat/01_bad/bad.test.ts": exampleTest("bad one", false) }, "flash-test-bad-");
    dirs.push(bad);
    const r = flashTest(bad, "01_cat/01_bad");
    expect(r.code).toBe(1);
    expect(r.out).toContain("1 fail");
  }, 30_000);

  test("a path that does not exist or leaves the workspace is refused", () => {
    const missing = flashTest(ws, "01_cat/09_missing");
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(`"01_cat/09_missing" is not a folder or file inside the workspace`);
    expect(flashTest(ws, "..").code).toBe(1);
  }, 30_000);

  test('without a tsconfig mapping, the preload still resolves "flash" (plain bun test does not)', () => {
    const bare = mkdtempSync(join(tmpdir(), "flash-test-bare-"));
    dirs.push(bare);
    writeFiles(bare, {
      "package.json": JSON.stringify({ name: "bare", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }),
      "01_cat/01_one/one.test.ts": exampleTest("resolved through the preload"),
    });
    const plain = run([process.execPath, "test"], bare);
    expect(plain.code).not.toBe(0);
    const r = flashTest(bare);
    expect(r.out).toContain("resolved through the preload");
    expect(r.code).toBe(0);
  }, 30_000);
});
