/**
 * Output for scripts and for pipes: `--json` documents (the field names README lists) from build, deploy, app and
 * env list/get and undeploy against the emulator, pointed at with FLASH_RUNPOD_URL alone; every command's `--help`
 * printed without escape codes into a pipe; NO_COLOR and FORCE_COLOR honoured.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../core/commands/catalog";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { makeWorkspace, REPO, removeDir } from "../helpers/workspace";

const KEY = "rpa_scripts_output_key_SECRET_0000";
const EXAMPLE = "01_getting_started/02_cpu_worker";
const ESC = "\u001b[";
let ws = "";
let em: Emulator;

/** Run flash from source with stdout and stderr as pipes (not blocking: the emulator answers from this process). */
async function flash(args: string[], env: Record<string, string | undefined> = {}) {
  const base: Record<string, string | undefined> = { ...process.env, FLASH_RUNPOD_URL: em.url, RUNPOD_API_KEY: KEY };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env: { ...base, ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}

/** stdout parsed as one JSON document (the test fails with the output when it is not). */
async function json(args: string[]): Promise<Record<string, unknown> & { [k: string]: any }> {
  const r = await flash([...args, "--json"]);
  expect(r.code, r.out + r.err).toBe(0);
  expect(r.err).not.toContain(KEY);
  return JSON.parse(r.out);
}

beforeAll(() => {
  ws = makeWorkspace({}, "flash-json-");
  cpSync(join(REPO, EXAMPLE), join(ws, EXAMPLE), { recursive: true, filter: (p) => !p.includes("node_modules") });
  em = startEmulator({ apiKey: KEY, workers: { env: { FLASH_WORKER_CACHE: join(ws, ".flash", "worker-cache") } } });
});
afterAll(async () => {
  await em?.stop();
  if (ws) removeDir(ws);
});

describe("--json", () => {
  test("build, deploy, app list/get, env list/get and undeploy print one document with stable fields", async () => {
    const build = await json(["build", "--app", "jsonapp"]);
    expect(Object.keys(build).sort()).toEqual(
      [
        "app",
        "artifact",
        "artifactBytes",
        "files",
        "manifest",
        "missing",
        "ms",
        "packages",
        "resources",
        "sha256",
      ].sort(),
    );
    expect(build.app).toBe("jsonapp");
    expect(existsSync(build.artifact)).toBe(true);
    expect(build.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(build.resources.map((r: { name: string }) => r.name)).toContain("01_02_cpu");

    const dry = await json(["deploy", "--app", "jsonapp", "--dry-run"]);
    expect(dry).toMatchObject({ app: "jsonapp", environment: "production", dryRun: true, upload: true });
    expect(dry.changes).toBeGreaterThan(0);

    const deployed = await json(["deploy", "--app", "jsonapp", "--yes"]);
    expect(deployed).toMatchObject({ app: "jsonapp", environment: "production", dryRun: false, uploaded: true });
    expect(deployed.buildId).toBeString();
    expect(deployed.counts.created).toBeGreaterThan(0);
    expect(deployed.url).toStartWith(em.url);
    expect(deployed.failures).toEqual([]);

    const apps = await json(["app", "list"]);
    expect(apps.apps).toContainEqual({
      name: "jsonapp",
      id: expect.any(String),
      environments: ["production"],
      builds: 1,
    });
    const app = await json(["app", "get", "jsonapp"]);
    expect(app).toMatchObject({ name: "jsonapp", builds: [{ id: deployed.buildId }] });
    expect(app.environments[0]).toMatchObject({ name: "production", activeBuildId: deployed.buildId });

    const envs = await json(["env", "list", "--app", "jsonapp"]);
    expect(envs.environments.map((e: { name: string }) => e.name)).toEqual(["production"]);
    const env = await json(["env", "get", "production", "--app", "jsonapp"]);
    expect(env).toMatchObject({ app: "jsonapp", name: "production", activeBuildId: deployed.buildId });
    expect(env.endpoints.length).toBe(deployed.counts.created);

    const listed = await json(["undeploy", "--app", "jsonapp"]);
    expect(listed.deployed.length).toBe(deployed.counts.created);
    expect(Object.keys(listed.deployed[0]).sort()).toEqual(["endpoint", "id", "resource"]);
    const removed = await json(["undeploy", "--app", "jsonapp", "--all", "--yes"]);
    expect(removed.deleted.length).toBe(deployed.counts.created);
    expect(removed.failures).toEqual([]);
    expect(em.control.endpoints.size).toBe(0);
  }, 120_000);
});

describe("colour", () => {
  const commands = [...Object.keys(COMMANDS), "app list", "app get", "env list", "env get", "doctor runpod"];
  test("every command's --help goes into a pipe without escape codes (and names its usage)", async () => {
    for (const cmd of commands) {
      const r = await flash([...cmd.split(" "), "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toContain("USAGE");
      expect(r.out + r.err, cmd).not.toContain(ESC);
    }
    for (const cmd of ["build", "deploy", "undeploy", "app list", "app get", "env list", "env get"]) {
      expect((await flash([...cmd.split(" "), "--help"])).out, cmd).toContain("--json");
    }
  }, 120_000);

  test("FORCE_COLOR colours a pipe; NO_COLOR (any value) wins over it", async () => {
    const forced = await flash(["init", "--pattern", "bogus"], { FORCE_COLOR: "1" });
    expect(forced.code).toBe(1);
    expect(forced.out + forced.err).toContain(ESC);
    const both = await flash(["init", "--pattern", "bogus"], { FORCE_COLOR: "1", NO_COLOR: "true" });
    expect(both.out + both.err).toContain("Unknown pattern");
    expect(both.out + both.err).not.toContain(ESC);
  });
});
