/** `flash emulator` flags: image commands, printed attach env, durations (as a user runs it: a subprocess). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseDuration } from "../../core/base/duration";
import { imageCommands, repeated } from "../../core/commands/emulator";
import { collectOutput, REPO } from "../helpers/workspace";
import { saveEndpoint } from "../helpers/emulator";

const tmp = mkdtempSync(join(tmpdir(), "flash-emulator-cmd-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const WORKER = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");

describe("flash emulator", () => {
  test("--image runs a command as an image's workers; other images get the env to attach a worker", async () => {
    const key = "rpa_emulator_cmd_key_SECRET_0001";
    const proc = Bun.spawn(
      [
        process.execPath,
        join(REPO, "cli.ts"),
        "emulator",
        "--port",
        "0",
        "--image",
        `myorg/handler:1=exec '${process.execPath}' '${WORKER}'`,
        "--image=myorg/unused=true",
      ],
      // Its own process group: under --parallel, no signal another file sends to a group can reach it.
      {
        cwd: tmp,
        env: { ...process.env, RUNPOD_API_KEY: key, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      },
    );
    const output = collectOutput(proc);
    let code: number | undefined;
    try {
      const deadline = Date.now() + 15_000;
      // The banner's last line: every line the test reads is out by then.
      while (!/\] API key/.test(output()) && Date.now() < deadline) await Bun.sleep(20);
      const base = /RUNPOD_API_BASE_URL=(\S+)/.exec(output())![1]!;
      expect(output()).toContain("workers of myorg/handler:1 run: exec");
      expect(output()).toContain("workers of myorg/unused run: true");
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      const make = async (name: string, image: string) => {
        return saveEndpoint(base, key, {
          name,
          template: { imageName: image, containerDiskInGb: 10, env: [] },
          instanceIds: ["cpu3c-2-4"],
        });
      };
      const mapped = await make("mapped", "myorg/handler:1");
      const job = await fetch(`${base}/v2/${mapped}/runsync`, {
        method: "POST",
        headers,
        body: JSON.stringify({ input: { mode: "echo", value: "via --image" } }),
      });
      expect(await job.json()).toMatchObject({ status: "COMPLETED", output: { echo: "via --image" } });
      const other = await make("other", "myorg/other:2");
      const until = Date.now() + 5000;
      while (!output().includes(`endpoint ${other} (other) runs image myorg/other:2`) && Date.now() < until)
        await Bun.sleep(20);
      expect(output()).toContain("which the emulator does not model and no --image command maps: no worker is started");
      expect(output()).toContain(`export RUNPOD_WEBHOOK_GET_JOB='${base}/v2/${other}/job-take/$ID?gpu=cpu3c-2-4'`);
      expect(output()).toContain("export RUNPOD_AI_API_KEY='rpa_");
      expect(output()).not.toContain(key);
    } finally {
      proc.kill("SIGINT");
      code = await proc.exited;
    }
    expect(code).toBe(0);
  }, 40_000);

  test("its workers do not outlive it: killed with SIGKILL, the emulator's worker process groups are stopped", async () => {
    const marker = `flash-orphan-${crypto.randomUUID()}`;
    const proc = Bun.spawn(
      [
        process.execPath,
        join(REPO, "cli.ts"),
        "emulator",
        "--port",
        "0",
        "--image",
        `myorg/sleeper:1=sleep 300; : ${marker}`,
      ],
      {
        cwd: tmp,
        env: { ...process.env, RUNPOD_API_KEY: "rpa_orphan_key_000000000000", NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const output = collectOutput(proc);
    const running = () =>
      Bun.spawnSync(["pgrep", "-f", marker], { stdout: "pipe" }).stdout.toString().trim().split("\n").filter(Boolean);
    try {
      const deadline = Date.now() + 15_000;
      // The banner's last line: every line the test reads is out by then.
      while (!/\] API key/.test(output()) && Date.now() < deadline) await Bun.sleep(20);
      const base = /RUNPOD_API_BASE_URL=(\S+)/.exec(output())![1]!;
      await saveEndpoint(base, "rpa_orphan_key_000000000000", {
        name: "sleeper",
        template: { imageName: "myorg/sleeper:1", containerDiskInGb: 10, env: [] },
        instanceIds: ["cpu3c-2-4"],
        workersMin: 1,
      });
      while (running().length === 0 && Date.now() < deadline) await Bun.sleep(20);
      expect(running().length).toBeGreaterThan(0);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    const gone = Date.now() + 10_000;
    while (running().length > 0 && Date.now() < gone) await Bun.sleep(50);
    expect(running()).toEqual([]);
  }, 40_000);

  test("--retire-graphql: endpoints through REST v2 only, GraphQL answers for Flash apps alone", async () => {
    const key = "rpa_emulator_cmd_key_SECRET_0002";
    const proc = Bun.spawn(
      [
        process.execPath,
        join(REPO, "cli.ts"),
        "emulator",
        "--port",
        "0",
        "--retire-graphql",
        "--image",
        `myorg/handler:1=exec '${process.execPath}' '${WORKER}'`,
      ],
      // Its own process group: under --parallel, no signal another file sends to a group can reach it.
      {
        cwd: tmp,
        env: { ...process.env, RUNPOD_API_KEY: key, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      },
    );
    const output = collectOutput(proc);
    try {
      const deadline = Date.now() + 15_000;
      while (!/GraphQL: retired/.test(output()) && Date.now() < deadline) await Bun.sleep(20);
      const base = /RUNPOD_API_BASE_URL=(\S+)/.exec(output())![1]!;
      expect(output()).toContain(`REST v2 control plane: ${base}/v2/serverless`);
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      const made = await fetch(`${base}/v2/serverless`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          name: "v2-handler",
          type: "QUEUE",
          image: "myorg/handler:1",
          cpu: [{ id: "cpu3c", vcpuCount: 2 }],
          scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
        }),
      });
      expect(made.status).toBe(201);
      const endpoint = (await made.json()) as { id: string; requestUrls: { runSync: string } };
      const job = await fetch(endpoint.requestUrls.runSync, {
        method: "POST",
        headers,
        body: JSON.stringify({ input: { mode: "echo", value: "via REST v2" } }),
      });
      expect(await job.json()).toMatchObject({ status: "COMPLETED", output: { echo: "via REST v2" } });
      const gql = (query: string) =>
        fetch(`${base}/graphql`, { method: "POST", headers, body: JSON.stringify({ query }) });
      const saved = await gql('mutation { deleteEndpoint(id: "x") }');
      expect(saved.status).toBe(410);
      expect(((await saved.json()) as any).errors[0].message).toContain("the GraphQL API is retired (deleteEndpoint)");
      expect((await gql("query { myself { flashApps { id } } }")).status).toBe(200);
      expect((await fetch(`${base}/v2/serverless/${endpoint.id}`, { method: "DELETE", headers })).status).toBe(204);
    } finally {
      proc.kill("SIGINT");
      await proc.exited;
    }
  }, 30_000);

  test("a bad --image or duration is refused with what was expected", async () => {
    const proc = Bun.spawn(
      [process.execPath, join(REPO, "cli.ts"), "emulator", "--port", "0", "--image", "no-command"],
      {
        cwd: tmp,
        env: { ...process.env, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const out = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
    expect(await proc.exited).toBe(1);
    expect(out).toContain('--image "no-command": expected IMAGE=COMMAND');
  }, 20_000);
});

describe("flag parsing", () => {
  test("repeated flags, IMAGE=COMMAND pairs and durations", () => {
    expect(repeated(["--image", "a=b", "--port", "1", "--image=c=d e"], "image")).toEqual(["a=b", "c=d e"]);
    expect(imageCommands(["myorg/img:tag=python3 handler.py", "x= y "])).toEqual({
      "myorg/img:tag": "python3 handler.py",
      x: "y",
    });
    expect(() => imageCommands(["=cmd"])).toThrow("expected IMAGE=COMMAND");
    expect(() => imageCommands(["img="])).toThrow("expected IMAGE=COMMAND");
    expect([parseDuration("250"), parseDuration("500ms"), parseDuration("5s"), parseDuration("2m")]).toEqual([
      250, 500, 5000, 120_000,
    ]);
    // One syntax for every flag: hours and days for --cold-start too.
    expect([parseDuration("1h"), parseDuration("1d"), parseDuration("1.5s")]).toEqual([3_600_000, 86_400_000, 1500]);
    expect(() => parseDuration("soon")).toThrow('"soon" is not a duration');
  });
});
