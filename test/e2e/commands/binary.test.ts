import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildScriptArgs } from "../../../scripts/release/compile";
import { postJson, REPO, removeDir, startFlash, workerSource, writeFiles } from "../../helpers/workspace";

/** Run a command; exit code and stdout + stderr. */
function run(
  cmd: string[],
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): { code: number; out: string } {
  const res = Bun.spawnSync(cmd, { cwd, env: { ...env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  return { code: res.exitCode, out: res.stdout.toString() + res.stderr.toString() };
}

/** Build the binary with the package.json `build` script's own flags (as the release does), into a temp folder. */
function buildBinary(outDir: string): string {
  const out = join(outDir, "flash");
  const args = ["build", ...buildScriptArgs(require("../../../package.json").scripts.build), "--outfile", out];
  const res = Bun.spawnSync([process.execPath, ...args], { cwd: REPO, stderr: "pipe", stdout: "pipe" });
  if (res.exitCode !== 0) throw new Error(`build failed: ${res.stderr.toString()}`);
  return out;
}

const buildDir = mkdtempSync(join(tmpdir(), "flash-bin-"));
// A workspace with no node_modules and no core/ beside it: the binary alone must serve it.
const ws = mkdtempSync(join(tmpdir(), "flash-binws-"));
writeFiles(ws, {
  "package.json": JSON.stringify({ name: "bin-ws", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }),
  "01_cat/01_one/cpu_worker.ts": workerSource("cpu", "from the binary"),
  "01_cat/02_elysia/gpu_worker.ts": `import { Elysia, t } from "elysia";\nexport const gpu_router = new Elysia().post("/sum", ({ body }) => ({ sum: body.a + body.b }), { body: t.Object({ a: t.Number(), b: t.Number() }) });\n`,
});
let binary = "";
beforeAll(() => {
  binary = buildBinary(buildDir);
}, 120_000);
afterAll(() => {
  removeDir(buildDir);
  removeDir(ws);
});

describe("compiled flash binary", () => {
  test("--version and --help", () => {
    const v = Bun.spawnSync([binary, "--version"]);
    expect(v.exitCode).toBe(0);
    // `bun run build` does not stamp a commit (`bun run release` does: test/e2e/release/host-release.test.ts).
    expect(v.stdout.toString().trim()).toBe(
      `${require("../../../package.json").version} (commit unknown, bun ${Bun.version}, ${process.platform}-${process.arch})`,
    );
    const h = Bun.spawnSync([binary, "--help"], { env: { ...process.env, NO_COLOR: "1" } });
    expect(h.exitCode).toBe(0);
    expect(h.stdout.toString()).toContain("run");
  }, 30_000);

  test("serves a workspace that has only the binary, as `bun cli.ts run` does", async () => {
    const fromBinary = await startFlash(ws, [], {}, { binary });
    const fromSource = await startFlash(ws);
    let code1: number | undefined, code2: number | undefined;
    try {
      for (const flash of [fromBinary, fromSource]) {
        const hello = await fetch(`${flash.url}/01_cat/01_one/cpu/hello`);
        expect(await hello.json()).toEqual({ reply: "from the binary", type: "cpu" });
        const sum = await fetch(`${flash.url}/01_cat/02_elysia/gpu/sum`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ a: 2, b: 3 }),
        });
        expect(await sum.json()).toEqual({ sum: 5 });
        const bad = await fetch(`${flash.url}/01_cat/02_elysia/gpu/sum`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ a: "x" }),
        });
        expect(bad.status).toBe(422);
      }
      const [a, b] = await Promise.all(
        [fromBinary, fromSource].map(async (f) => (await fetch(`${f.url}/health`)).json()),
      );
      expect(a.examples).toEqual(b.examples);
      expect(a.errors).toEqual([]);
      const [docsA, docsB] = await Promise.all(
        [fromBinary, fromSource].map(async (f) => (await fetch(`${f.url}/docs/json`)).json()),
      );
      expect(docsA.paths).toEqual(docsB.paths);
      const asset = await fetch(`${fromBinary.url}/docs/assets/swagger-ui-bundle.js`);
      expect(asset.status).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    } finally {
      code1 = await fromBinary.stop();
      code2 = await fromSource.stop();
    }
    expect(code1).toBe(0);
    expect(code2).toBe(0);
  }, 60_000);
});

describe("flash test with the compiled binary, in a workspace that has only the binary", () => {
  const home = mkdtempSync(join(tmpdir(), "flash-testbin-ws-"));
  afterAll(() => removeDir(home));
  // No bun on PATH: the binary's embedded bun must do everything (install, test, workers).
  const env = () => ({ ...process.env, PATH: buildDir });

  test("flash init makes a workspace whose generated tests pass under flash test and plain bun test", async () => {
    const init = run([binary, "init", "lab", "--yes"], home, env());
    expect(init.code).toBe(0);
    const ws = join(home, "lab");
    expect(readFileSync(join(ws, ".flash/runtime/flash.js"), "utf8")).toContain("./index.js");
    const lock = Bun.JSONC.parse(readFileSync(join(ws, "bun.lock"), "utf8")) as any;
    expect(lock.workspaces["01_getting_started/01_hello_world"]).toBeDefined();

    expect(run([binary, "init", "01_getting_started/02_dirs", "--pattern", "directory", "--yes"], ws, env()).code).toBe(
      0,
    );
    const t = run([binary, "test"], ws, env());
    expect(t.out).toContain("12 pass");
    expect(t.code).toBe(0);
    const one = run([binary, "test", "01_getting_started/02_dirs"], ws, env());
    expect(one.out).toContain("6 pass");
    expect(one.code).toBe(0);
    // An editor or a plain `bun test` resolves "flash" through tsconfig paths to the extracted runtime.
    const plain = run([process.execPath, "test"], ws);
    expect(plain.out).toContain("12 pass");
    expect(plain.code).toBe(0);
    expect(run([binary, "deps", "--check"], ws, env()).code).toBe(0);

    // And `flash run` from the binary serves the new examples.
    const flash = await startFlash(ws, [], { PATH: buildDir }, { binary });
    let code: number | undefined;
    try {
      const gpu = await postJson(`${flash.url}/01_getting_started/01_hello_world/gpu/hello`, {
        message: "from the binary",
      });
      expect(gpu.status).toBe(200);
      expect(gpu.body.message).toBe("from the binary");
      const cpu = await postJson(`${flash.url}/01_getting_started/02_dirs/cpu/hello`, { name: "Bin" });
      expect(cpu.body.message).toBe("Hello, Bin!");
    } finally {
      code = await flash.stop();
    }
    expect(code).toBe(0);
  }, 90_000);
});
