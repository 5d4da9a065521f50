import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { until } from "../fixtures/remote/helpers";
import { freePorts, makeWorkspace, REPO, removeDir, startFlash, workerSource, writeFiles } from "../helpers/workspace";

const CLI = join(REPO, "cli.ts");
const run = (args: string[], cwd = REPO) =>
  Bun.spawnSync([process.execPath, CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });

const ws = makeWorkspace({
  "01_cat/01_one/cpu_worker.ts": workerSource("cpu", "one"),
  "01_cat/02_two/gpu_worker.ts": workerSource("gpu", "two"),
  "02_other/01_three/cpu_worker.ts": workerSource("cpu", "three"),
  "01_cat/03_slow/cpu_worker.ts": `import { writeFileSync } from "node:fs";
import { Elysia } from "flash";
export const cpu_router = new Elysia().get("/slow", async () => {
  writeFileSync(import.meta.dir + "/started", "");
  await Bun.sleep(800);
  return { done: true };
});
`,
});
afterAll(() => removeDir(ws));

describe("flash CLI", () => {
  test("--version prints the package version first, then where it runs from and its Bun", () => {
    const out = run(["--version"]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout.toString().trim()).toBe(
      `${require("../../package.json").version} (from source, bun ${Bun.version}, ${process.platform}-${process.arch})`,
    );
  });

  test("--help lists the commands", () => {
    const out = run(["--help"]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout.toString()).toContain("run");
  });

  test("an unknown command is a usage error (exit 2) that lists the commands", () => {
    const out = run(["bogus"]);
    expect(out.exitCode).toBe(2);
    const all = out.stdout.toString() + out.stderr.toString();
    expect(all).toContain('unknown command "bogus"');
    expect(all).toContain("Commands: run, init");
  });

  test("run rejects a bad port", () => {
    const out = run(["run", ws, "--port", "abc"]);
    expect(out.exitCode).toBe(1);
    expect(out.stdout.toString() + out.stderr.toString()).toContain('Invalid port "abc"');
  });
});

describe("flash run", () => {
  test("from the root it serves every example and prints URL, counts and errors", async () => {
    const flash = await startFlash(ws);
    let code: number | undefined;
    try {
      for (const [path, reply] of [
        ["/01_cat/01_one/cpu/hello", "one"],
        ["/01_cat/02_two/gpu/hello", "two"],
        ["/02_other/01_three/cpu/hello", "three"],
      ]) {
        expect((await (await fetch(flash.url + path!)).json()).reply).toBe(reply);
      }
      await until(() => /routes/.test(flash.output()), "the log line /routes/");
      expect(flash.output()).toContain("4 examples, 7 routes");
    } finally {
      code = await flash.stop();
    }
    expect(code).toBe(0);
  });

  test("from a category it serves that category; from an example only that example, at the same URLs", async () => {
    const cat = await startFlash(join(ws, "01_cat"));
    try {
      expect((await fetch(`${cat.url}/01_cat/01_one/cpu/hello`)).status).toBe(200);
      expect((await fetch(`${cat.url}/02_other/01_three/cpu/hello`)).status).toBe(404);
    } finally {
      await cat.stop();
    }
    const one = await startFlash(join(ws, "01_cat/02_two"));
    try {
      expect((await fetch(`${one.url}/01_cat/02_two/gpu/hello`)).status).toBe(200);
      expect((await fetch(`${one.url}/01_cat/01_one/cpu/hello`)).status).toBe(404);
      expect((await (await fetch(`${one.url}/health`)).json()).total_examples).toBe(1);
    } finally {
      await one.stop();
    }
  });

  test("FLASH_PORT from .env and FLASH_HOST from the environment are used", async () => {
    const [port] = freePorts(1);
    writeFiles(ws, { ".env": `FLASH_PORT=${port}\n` });
    const flash = await startFlash(ws, [], { FLASH_HOST: "127.0.0.1" }, { autoPort: false });
    try {
      expect(flash.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await flash.stop();
      removeDir(join(ws, ".env"));
    }
  });

  test("load errors are printed with file and line", async () => {
    const broken = makeWorkspace({
      "01_a/01_bad/cpu_worker.ts": 'const a = 1;\nthrow new Error("bad module");\n',
      "01_a/02_ok/cpu_worker.ts": workerSource("cpu"),
    });
    const flash = await startFlash(broken);
    try {
      // stderr (errors) and stdout (the URL line) arrive on separate pipes: wait for the error line.
      await until(() => /bad module/.test(flash.output()), "the log line /bad module/");
      expect(flash.output()).toMatch(/01_bad\/cpu_worker\.ts:2(:\d+)? — bad module/);
      expect((await fetch(`${flash.url}/01_a/02_ok/cpu/hello`)).status).toBe(200);
    } finally {
      await flash.stop();
      removeDir(broken);
    }
  });

  test("a folder with no examples is served, with a hint on how to create one", async () => {
    const empty = makeWorkspace();
    const flash = await startFlash(empty);
    let code: number | undefined;
    try {
      await until(() => /no examples here/.test(flash.output()), "the log line /no examples here/");
      expect(flash.output()).toContain("flash init");
      expect((await (await fetch(`${flash.url}/health`)).json()).total_examples).toBe(0);
    } finally {
      code = await flash.stop();
      removeDir(empty);
    }
    expect(code).toBe(0);
  });

  test("a port in use is a clear error and exit 1", async () => {
    const busy = Bun.serve({ port: 0, fetch: () => new Response("busy") });
    try {
      const out = run(["run", ws, "--port", String(busy.port)]);
      expect(out.exitCode).toBe(1);
      expect(out.stdout.toString() + out.stderr.toString()).toContain(`cannot listen on localhost:${busy.port}`);
    } finally {
      busy.stop(true);
    }
  });

  test("Ctrl+C lets an in-flight request finish, then exits 0", async () => {
    const flash = await startFlash(ws);
    const inflight = fetch(`${flash.url}/01_cat/03_slow/cpu/slow`);
    await until(() => existsSync(join(ws, "01_cat/03_slow/started")), "the request inside its handler");
    const code = flash.stop();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await code).toBe(0);
  });
});
