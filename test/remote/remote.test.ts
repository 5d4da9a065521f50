// remote() end to end on the default local target: typed wrappers, RemoteError, stateful classes,
// decorated static methods, JSON-only arguments, load-balancer options, worker mode and the executor.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CpuLiveLoadBalancer, CpuLiveServerless, LiveLoadBalancer, RemoteError, remote } from "../../core";
import { statusOf } from "../../core/base/errors";
import { LocalTarget } from "../../core/remote/local/local-target";
import { currentTarget, setTarget } from "../../core/remote/target";
import * as fx from "../fixtures/remote/functions";

const FIXTURE = join(import.meta.dir, "../fixtures/remote/functions.ts");
const ROOT = join(import.meta.dir, "../..");
// A target of this file's own: `bun test` runs every file in one process, and another file may have shut its target down.
const target = new LocalTarget();
beforeAll(() => setTarget(target));
afterAll(() => target.shutdown());

describe("remote functions", () => {
  test("run in a worker and return the result", async () => {
    const result = await fx.whoami();
    expect(result.worker).not.toBeNull();
    expect(await fx.double(21)).toBe(42);
    expect([await fx.multiLine(), await fx.annotated(1)]).toEqual(["multi", 2]);
    expect(await fx.echo({ a: [1, "two", null, true], b: { c: 1.5 } })).toEqual({
      a: [1, "two", null, true],
      b: { c: 1.5 },
    });
  });

  test("carry their identity: calling module and export name", async () => {
    const ref = (fx.double as unknown as { remote: { module: string; name: string; config: { name: string } } }).remote;
    expect(ref.module).toBe(FIXTURE);
    expect(ref.config.name).toBe("test_fixture_cpu");
    expect(fx.double.name).toBe("double");
    expect([fx.multiLine.name, fx.annotated.name]).toEqual(["multiLine", "annotated"]);
    expect(await fx.double(4)).toBe(8);
    expect(ref.name).toBe("double");
  });

  test("a remote function that is not exported fails with the file, the line and the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-remote-unexported-"));
    try {
      const file = join(dir, "mod.ts");
      const core = JSON.stringify(join(ROOT, "core/index.ts"));
      writeFileSync(
        file,
        `import { remote, CpuLiveServerless } from ${core};\nconst cfg = new CpuLiveServerless({ name: "test_unexported" });\n` +
          `const hidden = remote(cfg, async function hidden() { return 1; });\nexport const callHidden = () => hidden();\n`,
      );
      const mod = await import(file);
      const err = (await mod.callHidden().catch((e: Error) => e)) as Error;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toContain(`remote function "hidden" (${file}:3) is not exported from its module`);
      expect(err.message).toContain("export it");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("errors arrive as RemoteError with the remote name, message and stack; input errors map to 400", async () => {
    const err = (await fx.rejectInput("amount must be positive").catch((e) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteName).toBe("InputError");
    expect(err.message).toBe("amount must be positive");
    expect(err.functionName).toBe("rejectInput");
    expect(err.remoteStack).toContain("functions.ts");
    expect(statusOf(err)).toBe(400);
    const typeErr = (await fx.typeError().catch((e) => e)) as RemoteError;
    expect(typeErr.remoteName).toBe("TypeError");
    expect(statusOf(typeErr)).toBe(500);
  });

  test("arguments that are not JSON values are a TypeError naming the function and the argument", async () => {
    await expect(fx.echo(new Date())).rejects.toThrow("echo: argument 1 is a Date");
    await expect(fx.echo({ when: { at: new Map() } })).rejects.toThrow("echo: argument 1.when.at is a Map");
    await expect(fx.echo([1, NaN])).rejects.toThrow("argument 1[1] is NaN");
    await expect(fx.echo(() => 1)).rejects.toThrow("argument 1 is a function");
    await expect(fx.echo(10n)).rejects.toThrow("argument 1 is a BigInt");
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    await expect(fx.echo(loop)).rejects.toThrow("argument 1.self is a circular reference");
    // Left-out optional arguments and undefined properties are fine (JSON drops them).
    expect(await fx.nap(1)).toMatchObject({ tag: null });
    expect(await fx.echo({ a: 1, b: undefined })).toEqual({ a: 1 });
  });
});

describe("identity across reloads", () => {
  test("a module edited and evaluated again (functions inserted before others) still runs each by export name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-remote-ids-"));
    try {
      const file = join(dir, "mod.ts");
      const core = JSON.stringify(join(ROOT, "core/index.ts"));
      const source = (names: string[]) =>
        `import { remote, CpuLiveServerless } from ${core};\nconst cfg = new CpuLiveServerless({ name: "test_ids" });\n` +
        names.map((n) => `export const ${n} = remote(cfg, async () => "${n}");`).join("\n");
      writeFileSync(file, source(["a", "b"]));
      const first = await import(file);
      expect([await first.a(), await first.b()]).toEqual(["a", "b"]);
      writeFileSync(file, `// edited\n\n${source(["c", "a", "b"])}`);
      delete require.cache[file];
      const second = await import(file);
      expect(second).not.toBe(first);
      await currentTarget().recycle?.(); // as a reload does: workers that imported the old code are replaced
      expect([await second.c(), await second.a(), await second.b()]).toEqual(["c", "a", "b"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stateful remote classes", () => {
  test("the constructor runs in one worker and every method call goes to that instance", async () => {
    const a = new fx.Counter(10) as unknown as {
      add(n: number): Promise<number>;
      where(): Promise<{ worker: string }>;
    };
    const b = new fx.Counter(100) as unknown as {
      add(n: number): Promise<number>;
      where(): Promise<{ worker: string }>;
    };
    expect(await a.add(1)).toBe(11);
    expect(await b.add(1)).toBe(101);
    expect(await a.add(5)).toBe(16);
    const [w1, w2] = [await a.where(), await a.where()];
    expect(w1.worker).toBe(w2.worker);
    expect(await b.add(-1)).toBe(100);
    expect((fx.Counter as unknown as { describe(): string }).describe()).toBe("a counter of counts");
  });

  test("remote(config, Class) returns the remote class too", async () => {
    const cfg = new CpuLiveServerless({ name: "test_remote_class_call" });
    class Plain {
      constructor(private readonly base: number) {}
      plus(x: number) {
        return this.base + x;
      }
    }
    const Remote = remote(cfg, Plain);
    expect(typeof Remote).toBe("function");
    expect(Object.getOwnPropertyNames(Remote.prototype)).toContain("plus");
  });

  test("a decorated static method runs remotely", async () => {
    expect(await fx.Tools.triple(4)).toBe(12);
  });
});

describe("load-balancer configs", () => {
  const lb = new CpuLiveLoadBalancer({ name: "test_lb" });
  test("need method and path", () => {
    expect(() => remote(lb, async () => 1)).toThrow("CpuLiveLoadBalancer functions need { method, path }");
    expect(() => remote(lb, async () => 1, { method: "POST" })).toThrow("need { method, path }");
    expect(() => remote(lb, async () => 1, { method: "POST", path: "compute" })).toThrow('path must start with "/"');
    expect(() => remote(lb, async () => 1, { method: "FETCH" as "GET", path: "/x" })).toThrow(
      "method must be one of GET, POST, PUT, DELETE, PATCH",
    );
    for (const path of ["/ping", "/execute", "/ping/"]) {
      expect(() => remote(lb, async () => 1, { method: "GET", path })).toThrow(
        `path ${path} is reserved on load-balanced endpoints (/ping is Runpod's health check, /execute carries flash's own calls)`,
      );
    }
    const fn = remote(new LiveLoadBalancer({ name: "test_lb_gpu" }), async (n: number[]) => n.length, {
      method: "POST",
      path: "/compute",
    });
    expect((fn as unknown as { remote: { options: object } }).remote.options).toEqual({
      method: "POST",
      path: "/compute",
    });
  });

  test("options are checked", () => {
    const cpu = new CpuLiveServerless({ name: "test_opts" });
    expect(() => remote(cpu, async () => 1, { dependencies: [""] })).toThrow(
      "dependencies must be a list of non-empty strings",
    );
    expect(() => remote(cpu, async () => 1, { deps: ["x"] } as object)).toThrow('unknown option "deps"');
    expect(() => remote({ name: "x" } as never, async () => 1)).toThrow("the first argument must be a resource config");
  });
});

async function runBun(
  code: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, "-e", code], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out, err };
}

describe("inside a worker", () => {
  test("remote() returns the plain function (FLASH_WORKER=1)", async () => {
    const code = `const fx = await import(${JSON.stringify(FIXTURE)}); console.log(JSON.stringify({ remote: "remote" in fx.double, result: await fx.double(2), sync: typeof fx.Counter.prototype.add }));`;
    const r = await runBun(code, { FLASH_WORKER: "1" });
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual({ remote: false, result: 4, sync: "function" });
  });

  test("Runpod's worker variables alone (RUNPOD_ENDPOINT_ID, RUNPOD_POD_ID from a .env) leave remote() remote", async () => {
    const code = `const fx = await import(${JSON.stringify(FIXTURE)}); console.log(JSON.stringify({ remote: "remote" in fx.double }));`;
    const r = await runBun(code, { RUNPOD_ENDPOINT_ID: "ep-test", RUNPOD_POD_ID: "pod-test" });
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ remote: true });
  });

  test("a remote class's handle built at import runs no constructor in a worker; the executor's instance does", async () => {
    const code = `
      const { execute } = await import("./core/remote/worker/executor.ts");
      const m = ${JSON.stringify(join(import.meta.dir, "..", "fixtures", "remote", "handle.ts"))};
      const fx = await import(m);
      const afterImport = globalThis.built ?? 0;
      const call = await execute({ module: m, name: "Loader", executionType: "class", args: [], instanceId: "L1", methodName: "which", constructorArgs: [] });
      const afterCall = globalThis.built;
      const own = await fx.handle.which(); // used in the worker after all: built then, once
      console.log(JSON.stringify({ afterImport, call: call.result, afterCall, own, again: await fx.handle.which(), total: globalThis.built, isLoader: fx.handle instanceof fx.Loader }));`;
    const r = await runBun(code, { FLASH_WORKER: "1" });
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual({
      afterImport: 0,
      call: 1,
      afterCall: 1,
      own: 2,
      again: 2,
      total: 2,
      isLoader: true,
    });
  });

  test("the executor imports the module, finds the function by export name, captures output and reports errors", async () => {
    const code = `
      const { execute } = await import("./core/remote/worker/executor.ts");
      const m = ${JSON.stringify(FIXTURE)};
      const out = [];
      out.push(await execute({ module: m, name: "shout", executionType: "function", args: ["abc"] }));
      out.push(await execute({ module: m, name: "rejectInput", executionType: "function", args: ["no"] }));
      out.push(await execute({ module: m, name: "ghost", executionType: "function", args: [] }));
      out.push(await execute({ module: m, name: "plainHelper", executionType: "function", args: [] }));
      out.push(await execute({ module: "/nonexistent/x.ts", name: "x", executionType: "function", args: [] }));
      out.push(await execute({ module: m, name: "Counter", executionType: "class", args: [2], instanceId: "Counter_1", methodName: "add", constructorArgs: [40], createNewInstance: true }));
      out.push(await execute({ module: m, name: "Counter", executionType: "class", args: [1], instanceId: "Counter_1", methodName: "add", createNewInstance: true }));
      out.push(await execute({ module: m, name: "Counter", executionType: "class", args: [], instanceId: "Counter_2", methodName: "add", createNewInstance: false }));
      console.log(JSON.stringify(out));`;
    const r = await runBun(code);
    expect(r.code).toBe(0);
    const [shout, reject, ghost, plain, missing, first, second, absent] = JSON.parse(r.out) as any[];
    expect(shout).toEqual({ success: true, result: "ABC", stdout: "shouting abc\nto stderr" });
    expect(reject.error).toMatchObject({ name: "InputError", message: "no", status: 400 });
    expect(ghost.error.name).toBe("LookupError");
    expect(ghost.error.message).toContain('exports no remote function "ghost"');
    expect(ghost.error.message).toContain("shout");
    // An export that is not a remote function is never run by name: only declared functions answer.
    expect(plain.error.name).toBe("LookupError");
    expect(plain.error.message).toContain('exports no remote function "plainHelper"');
    expect(missing.error.name).toBe("ImportError");
    expect(first).toEqual({ success: true, result: 42, instanceId: "Counter_1" });
    expect(second.result).toBe(43);
    expect(absent.error.message).toContain("does not exist on this worker");
  });

  test("a bundled module (as the Runpod target ships one) is found by the export names of its source module", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-remote-bundle-"));
    try {
      for (const sourcemap of ["none", "inline"] as const) {
        const built = await Bun.build({
          entrypoints: [FIXTURE],
          target: "bun",
          outdir: join(dir, sourcemap),
          sourcemap,
          external: ["flash"],
        });
        expect(built.success).toBe(true);
        const bundle = built.outputs[0]!.path;
        const code = `
          (await import("./core/workspace/self-import.ts")).registerFlashModules();
          const { execute } = await import("./core/remote/worker/executor.ts");
          const m = ${JSON.stringify(bundle)};
          const a = await execute({ module: m, name: "double", executionType: "function", args: [5] });
          const b = await execute({ module: m, name: "Counter", executionType: "class", args: [1], instanceId: "c1", methodName: "add", constructorArgs: [1] });
          console.log(JSON.stringify([a.result, b.result]));`;
        const r = await runBun(code, { FLASH_WORKER: "1" });
        expect(r.err).toBe("");
        expect(JSON.parse(r.out)).toEqual([10, 2]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
