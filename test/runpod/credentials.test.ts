/**
 * Credentials as Runpod's tools keep them: RUNPOD_API_KEY, else `~/.runpod/config.toml`; `flash login`'s device flow
 * against the emulator's side of it; FLASH_RUNPOD_URL pointing the commands at a running emulator.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { requireApiKey, runpodUrls } from "../../core/runpod/connection";
import { credentialsFile, findApiKey, saveApiKey } from "../../core/runpod/credentials";
import { deviceLogin } from "../../core/runpod/login";
import { finished, REPO } from "../helpers/workspace";

const KEY = "rpa_credentials_test_key_SECRET_000";
let em: Emulator;
let tmp: string;

/** A HOME of its own, optionally with a `~/.runpod/config.toml`. */
function home(config?: string): string {
  const dir = mkdtempSync(join(tmp, "home-"));
  if (config !== undefined) {
    mkdirSync(join(dir, ".runpod"));
    writeFileSync(join(dir, ".runpod", "config.toml"), config);
  }
  return dir;
}

/** Start `flash …` from source (not blocking: the emulator answers from this process). */
function flash(args: string[], env: Record<string, string>) {
  return Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: tmp,
    env: { ...process.env, NO_COLOR: "1", RUNPOD_API_KEY: "", FLASH_RUNPOD_URL: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-credentials-"));
  em = startEmulator({
    apiKey: KEY,
    takeHoldMs: 1000,
    control: { templateDeleteDelayMs: 1500 },
    workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache") }, lbWaitMs: 1000 },
  });
});
afterAll(async () => {
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("where the API key comes from", () => {
  test("the environment first, then the [default] profile of ~/.runpod/config.toml", () => {
    const dir = home(`[default]\napi_key = "from-file"\n\n[other]\napi_key = "not-this"\n`);
    expect(findApiKey({ HOME: dir, RUNPOD_API_KEY: "from-env" })).toEqual({ key: "from-env", source: "environment" });
    expect(findApiKey({ HOME: dir, RUNPOD_API_KEY: " " })).toEqual({ key: "from-file", source: "config" });
    expect(findApiKey({ HOME: home() })).toBeUndefined();
    expect(() => findApiKey({ HOME: home("[default\napi_key=") })).toThrow(/config\.toml is not valid TOML/);
  });

  test("without a key the error names flash login, and the --target hint only where the command has the flag", () => {
    const env = { HOME: home() };
    expect(() => requireApiKey(env)).toThrow(/flash login/);
    expect(() => requireApiKey(env)).not.toThrow(/--target/);
    expect(() => requireApiKey(env, "Use --target emulator to try everything offline.")).toThrow(/--target emulator/);
  });

  test("saving keeps the other profiles and is readable by the owner only", () => {
    const dir = home(`[staging]\napi_key = "stage"\nregion = "EU"\n`);
    const file = saveApiKey("new-key", { HOME: dir });
    expect(file).toBe(credentialsFile({ HOME: dir }));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const parsed = Bun.TOML.parse(readFileSync(file, "utf8")) as Record<string, Record<string, string>>;
    expect(parsed).toEqual({ staging: { api_key: "stage", region: "EU" }, default: { api_key: "new-key" } });
  });

  test("FLASH_RUNPOD_URL stands for the three Runpod URLs; one set on its own still wins", () => {
    expect(runpodUrls({ FLASH_RUNPOD_URL: "http://127.0.0.1:9/" })).toEqual({
      apiBaseUrl: "http://127.0.0.1:9",
      endpointBaseUrl: "http://127.0.0.1:9/v2",
      lbBaseUrl: "http://127.0.0.1:9/lb/{id}",
    });
    expect(runpodUrls({ FLASH_RUNPOD_URL: "http://e", RUNPOD_ENDPOINT_BASE_URL: "http://q/v2" }).endpointBaseUrl).toBe(
      "http://q/v2",
    );
  });
});

describe("flash login against the emulator", () => {
  test("prints the approval URL, waits for the approval, saves the key to ~/.runpod/config.toml, never prints it", async () => {
    const dir = home();
    const proc = flash(["login", "--no-open"], { HOME: dir, FLASH_RUNPOD_URL: em.url });
    // Read until the URL shows, then approve it as the signed-in user would on the console page.
    const reader = proc.stdout.getReader();
    let seen = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
      url = /(http:\S+\/flash\/login\?request=\S+)/.exec(seen)?.[1];
    }
    expect(url).toStartWith(`${em.url}/flash/login?request=`);
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Approve");
    const approved = await fetch(url!, { method: "POST", body: new URLSearchParams({ approve: "1" }) });
    expect(await approved.text()).toContain("approved");
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const code = await proc.exited;
    const out = seen + rest + (await new Response(proc.stderr).text());
    expect(out).toContain(`Credentials saved to ${join(dir, ".runpod", "config.toml")}`);
    expect(out).not.toContain(KEY);
    expect(code).toBe(0);
    expect(findApiKey({ HOME: dir })).toEqual({ key: KEY, source: "config" });
  }, 30_000);

  test("a denied request fails with its reason; the key is handed out once", async () => {
    const graphqlUrl = `${em.url}/graphql`;
    let url = "";
    const denied = deviceLogin({ graphqlUrl, consoleUrl: em.url, intervalMs: 10, onUrl: (u) => void (url = u) });
    while (!url) await Bun.sleep(5);
    await fetch(url, { method: "POST", body: new URLSearchParams({ deny: "1" }) });
    await expect(denied).rejects.toThrow("login failed: denied");

    let second = "";
    const ok = deviceLogin({ graphqlUrl, consoleUrl: em.url, intervalMs: 10, onUrl: (u) => void (second = u) });
    while (!second) await Bun.sleep(5);
    await fetch(second, { method: "POST", body: new URLSearchParams({ approve: "1" }) });
    expect(await ok).toBe(KEY);
    const id = new URL(second).searchParams.get("request");
    const again = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query:
          "query flashAuthRequestStatus($flashAuthRequestId: String!) { flashAuthRequestStatus(flashAuthRequestId: $flashAuthRequestId) { status apiKey } }",
        variables: { flashAuthRequestId: id },
      }),
    });
    expect((await again.json()).data.flashAuthRequestStatus).toMatchObject({ status: "CONSUMED", apiKey: null });
  });

  test("only the two guest operations go without a key; every other GraphQL call still needs one", async () => {
    const res = await fetch(`${em.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query { myself { id } }" }),
    });
    expect(res.status).toBe(401);
  });
});

describe("a user with only ~/.runpod/config.toml", () => {
  test("runs flash doctor runpod against the emulator (FLASH_RUNPOD_URL) without exporting a key", async () => {
    const dir = home(`[default]\napi_key = "${KEY}"\n`);
    const { code, out } = await finished(
      flash(["doctor", "runpod", "--only", "catalog"], {
        HOME: dir,
        FLASH_RUNPOD_URL: em.url,
      }),
    );
    expect(out).not.toContain(KEY);
    // The key check and one more authenticated call (the GPU catalog) are enough to show the key was found.
    expect(out).toMatch(/the API key is accepted \(\d+\.\d s\): GET \/v2\/serverless lists/);
    expect(out).toContain("(catalog) ");
    expect(out).toMatch(/all 2 steps passed/);
    expect(code).toBe(0);
  }, 120_000);
});
