import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { InitError, planInit } from "../../core/workspace/init";
import { PATTERNS } from "../../core/workspace/templates";
import { until } from "../fixtures/remote/helpers";
import { REPO, makeWorkspace, postJson, removeDir, startFlash, runFlash } from "../helpers/workspace";
import { warmRuntimeTypes } from "../helpers/runtime-types";

warmRuntimeTypes();

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** A temp workspace (root package.json with workspaces, tsconfig mapping "flash" to this core) with one category. */
function workspace(): string {
  const dir = makeWorkspace({ "01_basics/.keep": "" }, "flash-init-");
  dirs.push(dir);
  return dir;
}

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "flash-init-empty-"));
  dirs.push(dir);
  return dir;
}

/** Run `flash init` from source in `cwd`; returns exit code and the whole output. */
function init(cwd: string, ...args: string[]): { code: number; out: string } {
  return runFlash(cwd, ["init", ...args]);
}

/**
 * What `flash init` decides before writing anything, in this process (no CLI launch): the refusal it prints, or ""
 * when it would go ahead. Each test below also runs the CLI once to show the refusal reaches the user with exit 1.
 */
function refusal(cwd: string, path?: string): string {
  try {
    planInit({ cwd, path, pattern: PATTERNS.single! });
    return "";
  } catch (err) {
    if (err instanceof InitError) return err.message;
    throw err;
  }
}

/** Run `flash test` from source in `cwd`. */
function flashTest(cwd: string, ...args: string[]): { code: number; out: string } {
  return runFlash(cwd, ["test", ...args]);
}

function listFiles(dir: string): string[] {
  return [...new Bun.Glob("**/*").scanSync({ cwd: dir, dot: true })]
    .filter((f) => !f.startsWith("node_modules/"))
    .sort();
}

describe("flash init: patterns", () => {
  test("single-file pattern inside a category: files, names filled in, generated tests pass", () => {
    const ws = workspace();
    const r = init(join(ws, "01_basics"), "03_image_tools", "--no-install");
    expect(r.code).toBe(0);
    const ex = join(ws, "01_basics/03_image_tools");
    expect(listFiles(ex)).toEqual(
      [
        ".env.example",
        ".gitignore",
        "README.md",
        "cpu_worker.ts",
        "example.test.ts",
        "gpu_worker.ts",
        "mothership.ts",
        "package.json",
      ].sort(),
    );
    const gpu = readFileSync(join(ex, "gpu_worker.ts"), "utf8");
    expect(gpu).toContain(`name: "01_03_gpu"`);
    expect(gpu).toContain("export const gpu_router");
    expect(gpu).toContain(`from "flash"`);
    expect(readFileSync(join(ex, "cpu_worker.ts"), "utf8")).toContain(`name: "01_03_cpu"`);
    expect(readFileSync(join(ex, "mothership.ts"), "utf8")).toContain(`"01_03_image_tools-mothership"`);
    expect(JSON.parse(readFileSync(join(ex, "package.json"), "utf8")).name).toBe("@flash-examples/03_image_tools");
    expect(readFileSync(join(ex, "README.md"), "utf8")).toStartWith("# 03 Image Tools\n");
    expect(readFileSync(join(ex, "README.md"), "utf8")).toContain("/01_basics/03_image_tools/gpu/hello");
    // Nothing is left unfilled.
    for (const f of listFiles(ex)) expect(readFileSync(join(ex, f), "utf8")).not.toContain("{{");
    expect(r.out).toContain("Next steps");
    expect(r.out).toContain("flash deps                 # bun install");
    expect(r.out).toContain("POST /01_basics/03_image_tools/gpu/hello");

    const t = flashTest(ws, "01_basics/03_image_tools");
    expect(t.out).toContain("6 pass");
    expect(t.code).toBe(0);
  }, 60_000);

  test("directory pattern from the root: workers/{gpu,cpu}/index.ts, generated tests pass", () => {
    const ws = workspace();
    const r = init(ws, "02_more/01_first", "--pattern", "directory", "--no-install");
    expect(r.code).toBe(0);
    const ex = join(ws, "02_more/01_first");
    expect(existsSync(join(ex, "workers/gpu/index.ts"))).toBe(true);
    expect(existsSync(join(ex, "workers/cpu/index.ts"))).toBe(true);
    expect(existsSync(join(ex, "gpu_worker.ts"))).toBe(false);
    expect(readFileSync(join(ex, "workers/gpu/index.ts"), "utf8")).toContain(`name: "02_01_gpu"`);
    expect(readFileSync(join(ex, "example.test.ts"), "utf8")).toContain(`from "./workers/gpu"`);
    const t = flashTest(join(ws, "02_more/01_first"));
    expect(t.out).toContain("6 pass");
    expect(t.code).toBe(0);
  }, 60_000);

  test("an unknown pattern is refused", () => {
    const ws = workspace();
    const r = init(ws, "01_basics/01_x", "--pattern", "flat");
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Unknown pattern "flat"`);
    expect(existsSync(join(ws, "01_basics/01_x"))).toBe(false);
  }, 30_000);
});

describe("flash init: a new workspace", () => {
  test("in an empty directory: root manifest, bunfig, tsconfig, runtime, one category and example; bun install links it", () => {
    const dir = emptyDir();
    const r = init(dir, "--yes");
    expect(r.code).toBe(0);
    const root = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(root.workspaces).toEqual(["[0-9][0-9]_*/[0-9][0-9]_*"]);
    expect(readFileSync(join(dir, "bunfig.toml"), "utf8")).toContain("exact = true");
    const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8"));
    expect(tsconfig.compilerOptions.paths.flash).toEqual(["./.flash/runtime"]);
    expect(existsSync(join(dir, ".flash/runtime/flash.js"))).toBe(true);
    expect(existsSync(join(dir, ".flash/runtime/types/flash/index.d.ts"))).toBe(true);
    expect(existsSync(join(dir, ".flash/runtime/preload.js"))).toBe(true);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain(".flash/");
    // The guide for coding assistants arrives as the repository keeps it (one source: the root AGENTS.md).
    expect(readFileSync(join(dir, "AGENTS.md"), "utf8")).toBe(readFileSync(join(REPO, "AGENTS.md"), "utf8"));
    expect(readFileSync(join(dir, "CLAUDE.md"), "utf8")).toBe(readFileSync(join(REPO, "CLAUDE.md"), "utf8"));
    expect(readdirSync(dir).filter((d) => /^\d\d_/.test(d))).toEqual(["01_getting_started"]);
    expect(existsSync(join(dir, "01_getting_started/01_hello_world/gpu_worker.ts"))).toBe(true);
    // bun install ran (no network: the example has no dependencies) and the lock lists the example.
    const lock = Bun.JSONC.parse(readFileSync(join(dir, "bun.lock"), "utf8")) as any;
    expect(lock.workspaces["01_getting_started/01_hello_world"].name).toBe("@flash-examples/01_hello_world");
    // Plain bun resolves "flash" through the tsconfig path to the extracted runtime.
    const t = Bun.spawnSync([process.execPath, "test"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    expect(t.stderr.toString()).toContain("6 pass");
    expect(t.exitCode).toBe(0);
  }, 60_000);

  test("with a new folder name outside any workspace", () => {
    const dir = emptyDir();
    const r = init(dir, "my-lab", "--no-install");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "my-lab/package.json"), "utf8")).name).toBe("my-lab");
    expect(existsSync(join(dir, "my-lab/01_getting_started/01_hello_world/cpu_worker.ts"))).toBe(true);
    expect(r.out).toContain("cd my-lab");
  }, 30_000);

  test("NN_category/NN_example in an empty directory seeds the workspace with those names", () => {
    const dir = emptyDir();
    const r = init(dir, "05_vision/02_ocr", "--no-install");
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "package.json"))).toBe(true);
    expect(readFileSync(join(dir, "05_vision/02_ocr/gpu_worker.ts"), "utf8")).toContain(`"05_02_gpu"`);
  }, 30_000);

  test("a non-empty folder outside any workspace is refused and left alone", () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "notes.txt"), "mine");
    const r = init(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain("not inside a flash workspace and is not empty");
    for (const path of ["01_cat/01_ex", "."])
      expect(refusal(dir, path)).toContain("not inside a flash workspace and is not empty");
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
  }, 30_000);
});

describe("flash init: names and paths", () => {
  test("bad names are refused with a suggestion, and nothing is written", () => {
    const ws = workspace();
    const cat = join(ws, "01_basics");
    const r = init(cat, "My-Example", "--no-install");
    expect(r.code).toBe(1);
    expect(r.out).toContain("NN_snake_case");
    expect(r.out).toContain(`"01_my_example"`);
    for (const [name, suggestion] of [
      ["3_fooBar", "03_foo_bar"],
      ["07_Hello World", "07_hello_world"],
    ] as const) {
      expect(refusal(cat, name)).toContain("NN_snake_case");
      expect(refusal(cat, name)).toContain(`"${suggestion}"`);
    }
    expect(readdirSync(cat)).toEqual([".keep"]);
    expect(refusal(ws, "basics/01_x")).toContain(`"basics" is not a valid category name`);
    expect(existsSync(join(ws, "basics"))).toBe(false);
  }, 30_000);

  test("a single name at the root is explained (it would be a category); no name at all asks which example", () => {
    const ws = workspace();
    const r = init(ws, "01_lonely", "--no-install");
    expect(r.code).toBe(1);
    expect(r.out).toContain("would be a category");
    expect(r.out).toContain("flash init NN_category/NN_example");
    expect(refusal(join(ws, "01_basics"))).toContain(`Which example? Inside a category: "flash init NN_example"`);
    expect(readdirSync(join(ws, "01_basics"))).toEqual([".keep"]);
  }, 30_000);

  test("../ and absolute paths that leave the workspace are refused; nothing is written outside", () => {
    const ws = workspace();
    const outside = emptyDir();
    const up = init(join(ws, "01_basics"), `${relative(join(ws, "01_basics"), outside)}/01_x/01_y`, "--no-install");
    expect(up.code).toBe(1);
    expect(up.out).toContain("is outside the workspace");
    expect(refusal(join(ws, "01_basics"), "../../01_evil/01_x")).toContain("is outside the workspace");
    expect(refusal(ws, join(outside, "01_cat/01_ex"))).toContain("is outside the workspace");
    expect(refusal(ws, join(outside, "mylab"))).toContain(
      `to create a new workspace there, run \`flash init mylab\` from outside this one (cd ${outside})`,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(ws, "..", "01_evil"))).toBe(false);
    // An absolute path inside the workspace is fine.
    expect(refusal(ws, join(ws, "01_basics/02_ok"))).toBe("");
    expect(planInit({ cwd: ws, path: join(ws, "01_basics/02_ok"), pattern: PATTERNS.single! }).exampleDir).toBe(
      join(ws, "01_basics/02_ok"),
    );
  }, 30_000);

  test("a symlinked category pointing outside cannot smuggle files out", () => {
    const ws = workspace();
    const outside = emptyDir();
    require("node:fs").symlinkSync(outside, join(ws, "02_linked"));
    const r = init(ws, "02_linked/01_x", "--no-install");
    expect(r.code).toBe(1);
    expect(readdirSync(outside)).toEqual([]);
  }, 30_000);
});

describe("flash init: existing files", () => {
  test("refused without --force (nothing overwritten), overwritten with --force", () => {
    const ws = workspace();
    expect(init(ws, "01_basics/01_x", "--no-install").code).toBe(0);
    const gpu = join(ws, "01_basics/01_x/gpu_worker.ts");
    writeFileSync(gpu, "// my edits\n");
    const again = init(ws, "01_basics/01_x", "--no-install");
    expect(again.code).toBe(1);
    expect(again.out).toContain("01_basics/01_x/gpu_worker.ts");
    expect(again.out).toContain("--force");
    expect(readFileSync(gpu, "utf8")).toBe("// my edits\n");
    // --yes is non-interactive, not a licence to overwrite.
    expect(init(ws, "01_basics/01_x", "--yes", "--no-install").code).toBe(1);
    expect(readFileSync(gpu, "utf8")).toBe("// my edits\n");
    const forced = init(ws, "01_basics/01_x", "--force", "--no-install");
    expect(forced.code).toBe(0);
    expect(readFileSync(gpu, "utf8")).toContain("export const gpu_router");
  }, 30_000);

  test("a file outside the template is never touched, and a re-init keeps the package name", () => {
    const ws = workspace();
    expect(init(ws, "01_basics/01_x", "--no-install").code).toBe(0);
    writeFileSync(join(ws, "01_basics/01_x/data.json"), "{}");
    expect(init(ws, "01_basics/01_x", "--force", "--no-install").code).toBe(0);
    expect(readFileSync(join(ws, "01_basics/01_x/data.json"), "utf8")).toBe("{}");
    expect(JSON.parse(readFileSync(join(ws, "01_basics/01_x/package.json"), "utf8")).name).toBe("@flash-examples/01_x");
  }, 30_000);

  test("a second example of the same name in another category gets a unique package name", () => {
    const ws = workspace();
    expect(init(ws, "01_basics/01_x", "--no-install").code).toBe(0);
    expect(init(ws, "02_other/01_x", "--no-install").code).toBe(0);
    expect(JSON.parse(readFileSync(join(ws, "02_other/01_x/package.json"), "utf8")).name).toBe(
      "@flash-examples/02_other-01_x",
    );
  }, 30_000);

  test("examples in two categories with the same number get different resource names", () => {
    const ws = workspace();
    writeFileSync(join(ws, "01_basics/.keep"), "");
    expect(init(ws, "01_basics/01_hello", "--no-install").code).toBe(0);
    mkdirSync(join(ws, "01_demo"));
    expect(init(ws, "01_demo/01_hello", "--no-install").code).toBe(0);
    expect(readFileSync(join(ws, "01_basics/01_hello/gpu_worker.ts"), "utf8")).toContain('name: "01_01_gpu"');
    expect(readFileSync(join(ws, "01_demo/01_hello/gpu_worker.ts"), "utf8")).toContain('name: "01_01_demo_gpu"');
    expect(readFileSync(join(ws, "01_demo/01_hello/cpu_worker.ts"), "utf8")).toContain('name: "01_01_demo_cpu"');
    // Re-initialising an example keeps its own names.
    expect(init(ws, "01_basics/01_hello", "--force", "--no-install").code).toBe(0);
    expect(readFileSync(join(ws, "01_basics/01_hello/gpu_worker.ts"), "utf8")).toContain('name: "01_01_gpu"');
  }, 30_000);

  test("flash run warns when two examples declare different configs under one name", async () => {
    const ws = workspace();
    expect(init(ws, "01_basics/01_hello", "--no-install").code).toBe(0);
    mkdirSync(join(ws, "01_demo"));
    expect(init(ws, "01_demo/01_hello", "--no-install").code).toBe(0);
    const file = join(ws, "01_demo/01_hello/gpu_worker.ts");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace('name: "01_01_demo_gpu"', 'name: "01_01_gpu"')
        .replace(/workersMax: \d+/, "workersMax: 7"),
    );
    const flash = await startFlash(ws);
    try {
      expect(flash.output()).toContain('two different configs are named "01_01_gpu"');
    } finally {
      await flash.stop();
    }
  }, 30_000);
});

describe("flash init: a running flash run --watch", () => {
  test("serves the new example at once", async () => {
    const ws = workspace();
    mkdirSync(join(ws, "01_basics"), { recursive: true });
    const flash = await startFlash(ws, ["--watch"]);
    let code: number | undefined;
    try {
      expect(init(ws, "01_basics/02_fresh", "--no-install").code).toBe(0);
      const url = `${flash.url}/01_basics/02_fresh/cpu/hello`;
      let res = { status: 0, body: undefined as any };
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        res = await postJson(url, { name: "Watcher" });
        if (res.status === 200) break;
        await Bun.sleep(100);
      }
      expect(res.status).toBe(200);
      expect(res.body.message).toBe("Hello, Watcher!");
      const bad = await postJson(url, { name: "" });
      expect(bad.status).toBe(422);
    } finally {
      code = await flash.stop();
    }
    expect(code).toBe(0);
  }, 40_000);
});

describe("flash init: on a terminal", () => {
  const hasScript = Bun.which("script") !== null;

  test.skipIf(!hasScript)(
    "asks which existing files to overwrite and writes only those",
    async () => {
      const ws = workspace();
      expect(init(ws, "01_basics/01_x", "--no-install").code).toBe(0);
      const ex = join(ws, "01_basics/01_x");
      writeFileSync(join(ex, "gpu_worker.ts"), "// mine\n");
      writeFileSync(join(ex, "cpu_worker.ts"), "// mine too\n");
      // `script` gives flash a pseudo-terminal, so stdin/stdout are TTYs and the prompt appears.
      const cmd = `stty cols 200 rows 50; exec ${process.execPath} ${join(REPO, "cli.ts")} init 01_basics/01_x --no-install`;
      const proc = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
        cwd: ws,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
      let text = "";
      const reader = (async () => {
        for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>)
          text += new TextDecoder().decode(chunk);
      })();
      const deadline = Date.now() + 15_000;
      while (!text.includes("Which ones should be overwritten") && Date.now() < deadline) await Bun.sleep(50);
      expect(text).toContain("Which ones should be overwritten");
      // The first option is gpu_worker.ts: select it (space), confirm (enter).
      const shown = text.length;
      proc.stdin.write(" ");
      proc.stdin.flush();
      await until(() => text.length > shown, "the prompt redrawn with the option selected", 15_000);
      proc.stdin.write("\r");
      proc.stdin.flush();
      expect(await proc.exited).toBe(0);
      await reader;
      expect(readFileSync(join(ex, "gpu_worker.ts"), "utf8")).toContain("export const gpu_router");
      expect(readFileSync(join(ex, "cpu_worker.ts"), "utf8")).toBe("// mine too\n");
    },
    30_000,
  );
});

describe("flash init: inside flash's own repository", () => {
  test("scripts call the source cli.ts and no runtime copy is written (tsconfig maps flash to core/)", () => {
    const ws = workspace();
    writeFileSync(join(ws, "cli.ts"), "// stands in for flash's cli.ts\n");
    mkdirSync(join(ws, "core"));
    writeFileSync(join(ws, "core/index.ts"), `export * from ${JSON.stringify(join(REPO, "core/index.ts"))};\n`);
    const r = init(ws, "01_basics/04_in_repo", "--no-install");
    expect(r.code).toBe(0);
    const scripts = JSON.parse(readFileSync(join(ws, "01_basics/04_in_repo/package.json"), "utf8")).scripts;
    expect(scripts).toEqual({ dev: "bun ../../cli.ts run --watch", test: "bun ../../cli.ts test ." });
    expect(existsSync(join(ws, ".flash"))).toBe(false);
  }, 30_000);
});
