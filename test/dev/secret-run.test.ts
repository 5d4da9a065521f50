/**
 * `secret("NAME")` in a config's env under `flash run` (the local target): the worker gets the value of the variable
 * NAME from the workspace's `.env`, and the value shows up in no log line, no response and no status page.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeWorkspace, removeDir, startFlash, type FlashProcess } from "../helpers/workspace";

const VALUE = "tok_local_secret_value_5f1e2d3c";
let ws: string;
let flash: FlashProcess;

beforeAll(async () => {
  ws = makeWorkspace(
    {
      ".env": `MY_TOKEN=${VALUE}\n`,
      "01_basics/01_secret/cpu_worker.ts": `import { CpuLiveServerless, Elysia, remote, secret } from "flash";

export const secretConfig = new CpuLiveServerless({
  name: "01_01_secret",
  env: { API_TOKEN: secret("MY_TOKEN"), PLAIN: "plain-value" },
});

/** What the worker sees of API_TOKEN: its length and hash (never the value), and the plain variable. */
export const tokenFacts = remote(secretConfig, async () => {
  const v = process.env.API_TOKEN ?? "";
  console.log("the worker has API_TOKEN of length", v.length);
  return {
    length: v.length,
    sha256: new Bun.CryptoHasher("sha256").update(v).digest("hex"),
    reference: v.includes("RUNPOD_SECRET"),
    plain: process.env.PLAIN,
  };
});

export const cpu_router = new Elysia().get("/token", () => tokenFacts());
`,
    },
    "flash-secret-",
  );
  flash = await startFlash(ws);
});
afterAll(async () => {
  await flash?.stop();
  removeDir(ws);
});

describe("secret() under flash run", () => {
  test("the worker gets the .env value of the secret's name; no log, response or status page shows it", async () => {
    const res = await fetch(`${flash.url}/01_basics/01_secret/cpu/token`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      length: VALUE.length,
      sha256: new Bun.CryptoHasher("sha256").update(VALUE).digest("hex"),
      reference: false,
      plain: "plain-value",
    });
    expect(text).not.toContain(VALUE);
    for (const path of ["/health", "/openapi.json", "/"]) {
      const page = await fetch(`${flash.url}${path}`);
      expect({ path, leaks: (await page.text()).includes(VALUE) }).toEqual({ path, leaks: false });
    }
    expect(flash.output()).toContain("the worker has API_TOKEN of length");
    expect(await flash.stop()).toBe(0);
    expect(flash.output()).not.toContain(VALUE);
  }, 60_000);
});
