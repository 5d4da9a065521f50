/** `flash run --target emulator` and `flash emulator` as a user runs them (subprocesses, real ports, Ctrl+C). */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import runpodSdk from "runpod-sdk";
import { startEmulator } from "../../core/emulator/server";
import { FIXTURE_PKG, FIXTURE_WS } from "../fixtures/runpod/harness";
import { collectOutput, makeWorkspace, postJson, REPO, removeDir, startFlash } from "../helpers/workspace";

const tmp = mkdtempSync(join(tmpdir(), "flash-runpod-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("flash run --target emulator", () => {
  test("serves routes whose remote calls run on emulated Runpod workers; Ctrl+C removes the live endpoints", async () => {
    const ws = join(tmp, "ws");
    cpSync(FIXTURE_WS, ws, { recursive: true });
    const flash = await startFlash(ws, ["--target", "emulator"], {
      FLASH_FIXTURE_PKG: FIXTURE_PKG,
      FLASH_WORKER_CACHE: join(tmp, "cache"),
    });
    let code: number | undefined;
    try {
      const res = await postJson(`${flash.url}/01_demo/01_basic/cpu/hello`, { name: "cli" });
      expect(res.status).toBe(200);
      expect(res.body.message).toBe("HELLO CLI!");
      expect(res.body.worker).toMatch(/^[a-z0-9]{14}$/);
      const health = await (await fetch(`${flash.url}/health`)).text();
      expect(health).toContain("live-01_01_basic_cpu-fb");
      const state = JSON.parse(readFileSync(join(ws, ".flash", "emulator-resources.json"), "utf8"));
      expect(Object.keys(state.resources)).toEqual(["live-01_01_basic_cpu-fb"]);
    } finally {
      code = await flash.stop();
    }
    expect(flash.output()).toContain("emulator: removed 1 live endpoint, failed 0");
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(ws, ".flash", "emulator-resources.json"), "utf8")).resources).toEqual({});
  }, 30_000);
});

describe("flash run --target emulator and a terminal's Ctrl+C", () => {
  test("in-flight jobs finish once: the workers are not in the terminal's process group", async () => {
    const ws = makeWorkspace({
      "01_demo/01_slow/package.json": JSON.stringify({ name: "@t/01_slow", private: true, type: "module" }),
      "01_demo/01_slow/cpu_worker.ts": `import { appendFileSync } from "node:fs";
import { CpuLiveServerless, Elysia, remote, t } from "flash";

const cpu = new CpuLiveServerless({ name: "01_01_slow_cpu", workersMax: 2, idleTimeout: 30 });

export const slow = remote(cpu, async (input: { file: string; id: string; ms: number }) => {
  appendFileSync(input.file, \`start \${input.id}\\n\`);
  await Bun.sleep(input.ms);
  appendFileSync(input.file, \`end \${input.id}\\n\`);
  return { id: input.id };
});

export const cpu_router = new Elysia().post("/slow", ({ body }) => slow(body), {
  body: t.Object({ file: t.String(), id: t.String(), ms: t.Number() }),
});
`,
    });
    const log = join(ws, "runs.log");
    // Its own process group, as a shell gives a foreground job: Ctrl+C is SIGINT to every process of the group.
    const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "run", "--target", "emulator", "--port", "0"], {
      cwd: ws,
      env: { ...process.env, NO_COLOR: "1", FLASH_WORKER_CACHE: join(tmp, "cache-sigint") },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      detached: true,
    });
    const output = collectOutput(proc);
    try {
      const deadline = Date.now() + 30_000;
      while (!/at (http:\/\/\S+)/.test(output()) && Date.now() < deadline) await Bun.sleep(20);
      const url = /at (http:\/\/\S+)/.exec(output())![1]!;
      const calls = ["a", "b"].map((id) => postJson(`${url}/01_demo/01_slow/cpu/slow`, { file: log, id, ms: 1500 }));
      const started = () => (existsSync(log) ? (readFileSync(log, "utf8").match(/^start /gm)?.length ?? 0) : 0);
      while (started() < 2 && Date.now() < deadline) await Bun.sleep(20);
      expect(started()).toBe(2);
      process.kill(-proc.pid, "SIGINT");
      const answers = await Promise.all(calls);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect(await proc.exited).toBe(0);
      expect(readFileSync(log, "utf8").split("\n").filter(Boolean).sort()).toEqual([
        "end a",
        "end b",
        "start a",
        "start b",
      ]);
      expect(output()).not.toContain("requeued");
    } finally {
      if (proc.exitCode === null) process.kill(-proc.pid, "SIGKILL");
      removeDir(ws);
    }
  }, 60_000);
});

describe("flash run --target runpod", () => {
  test("uses RUNPOD_API_KEY and the configurable base URLs (here: an emulator), and never prints the key", async () => {
    const key = "rpa_runpod_target_cli_key_7777777";
    const em = startEmulator({ apiKey: key, workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache-rp") } } });
    const ws = join(tmp, "ws-rp");
    cpSync(FIXTURE_WS, ws, { recursive: true });
    const flash = await startFlash(ws, ["--target", "runpod"], {
      RUNPOD_API_KEY: key,
      RUNPOD_API_BASE_URL: em.apiBaseUrl,
      RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
      RUNPOD_LB_BASE_URL: em.lbBaseUrl,
      FLASH_WORKER_IMAGE: "docker.io/me/flash-worker:test",
      FLASH_FIXTURE_PKG: FIXTURE_PKG,
    });
    let code: number | undefined;
    try {
      const res = await postJson(`${flash.url}/01_demo/01_basic/cpu/hello`, { name: "rp" });
      expect(res.status).toBe(200);
      expect(res.body.message).toBe("HELLO RP!");
      const [endpoint] = [...em.control.endpoints.values()];
      expect(endpoint!.name).toBe("live-01_01_basic_cpu-fb");
      expect(em.control.templateOf(endpoint!)?.imageName).toBe("docker.io/me/flash-worker:test");
      expect(
        JSON.parse(readFileSync(join(ws, ".flash", "resources.json"), "utf8")).resources["live-01_01_basic_cpu-fb"]
          .endpointId,
      ).toBe(endpoint!.id);
    } finally {
      code = await flash.stop();
      await em.stop();
    }
    expect(code).toBe(0);
    expect(flash.output()).toContain("runpod: removed 1 live endpoint, failed 0");
    expect(flash.output()).not.toContain(key);
    expect(em.control.endpoints.size).toBe(0);
  }, 30_000);
});

describe("the compiled binary", () => {
  test("--target emulator runs the binary's embedded bun as the image's bun; its deployed mothership starts", async () => {
    const binary = join(tmp, "bin", "flash");
    const build = Bun.spawnSync([process.execPath, "build", join(REPO, "cli.ts"), "--compile", "--outfile", binary], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(build.exitCode).toBe(0);
    const ws = join(tmp, "ws-bin");
    cpSync(FIXTURE_WS, ws, { recursive: true });
    const flash = await startFlash(
      ws,
      ["--target", "emulator"],
      { FLASH_FIXTURE_PKG: FIXTURE_PKG, FLASH_WORKER_CACHE: join(tmp, "cache-bin") },
      { binary },
    );
    let code: number | undefined;
    try {
      const res = await postJson(`${flash.url}/01_demo/01_basic/cpu/hello`, { name: "binary" });
      expect(res.status).toBe(200);
      expect(res.body.message).toBe("HELLO BINARY!");
      const failed = await postJson(`${flash.url}/01_demo/01_basic/cpu/explode`, { why: "b" });
      expect(failed.status).toBe(500);
      expect(failed.body.message).not.toContain("boom");
      expect(failed.body.request_id).toMatch(/^[0-9a-f]{12}$/);
    } finally {
      code = await flash.stop();
    }
    expect(code).toBe(0);
    // The detail a 500 body leaves out is in flash's log, under the request id the client got.
    expect(flash.output()).toMatch(/\[request [0-9a-f]{12}\]: .*boom: b/);
    expect(flash.output()).toContain("emulator: removed 1 live endpoint, failed 0");
    // Artifacts built by the binary carry the mothership's runtime (embedded at build time): the doctor's first
    // step builds one and starts every template's start command from its image against it.
    const key = "rpa_binary_doctor_key_00000000000";
    const em = startEmulator({ apiKey: key, control: { templateDeleteDelayMs: 0 } });
    try {
      const proc = Bun.spawn([binary, "doctor", "runpod", "--api-url", em.apiBaseUrl, "--only", "starts"], {
        cwd: tmp,
        env: { ...process.env, RUNPOD_API_KEY: key, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      expect(out + err).toMatch(/deployed start commands, locally: .*\bflash_doctor_\w+-mothership ready in/);
      expect(out + err).toMatch(/all 2 steps passed/);
      expect(await proc.exited).toBe(0);
    } finally {
      await em.stop();
    }
  }, 90_000);
});

describe("flash emulator", () => {
  test("runs standalone: any Runpod client can provision and check health with the key from RUNPOD_API_KEY", async () => {
    const key = "rpa_standalone_cli_key_999999999";
    const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "emulator", "--port", "0"], {
      cwd: tmp,
      env: { ...process.env, RUNPOD_API_KEY: key, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = collectOutput(proc);
    let code: number | undefined;
    try {
      const deadline = Date.now() + 15_000;
      // The banner's last line: every line the test reads is out by then.
      while (!/\] API key/.test(output()) && Date.now() < deadline) await Bun.sleep(20);
      const base = /RUNPOD_API_BASE_URL=(\S+)/.exec(output())![1]!;
      const endpointBase = /RUNPOD_ENDPOINT_BASE_URL=(\S+)/.exec(output())![1]!;
      expect(output()).not.toContain(key);
      const saved = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          query: 'mutation { saveEndpoint(input: {name: "x", template: {imageName: "i"}}) { id } }',
        }),
      });
      const id = ((await saved.json()) as any).data.saveEndpoint.id;
      const health: any = await runpodSdk(key, { baseUrl: endpointBase }).endpoint(id)!.health();
      expect(health.jobs.inQueue).toBe(0);
    } finally {
      proc.kill("SIGINT");
      code = await proc.exited;
    }
    expect(code).toBe(0);
  }, 20_000);
});
