/**
 * `bun bench/deploy.ts` — deploy figures (issue 11): `flash build` time and artifact size for this repository;
 * `flash deploy` to an emulator, first and unchanged; deployed worker start → first answer (through the mothership,
 * cold) against live mode's first call (`flash run --target emulator`, cold). Prints figures, asserts nothing.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { registerFlashModules } from "../core/workspace/self-import";
import { startEmulator } from "../core/emulator/server";

const REPO = resolve(import.meta.dir, "..");
const EXAMPLES = ["01_getting_started/02_cpu_worker", "03_advanced_workers/05_load_balancer"];
// A queue-endpoint route (the mothership calls the deployed CPU endpoint; live mode provisions and ships the code).
const ROUTE = "/01_getting_started/02_cpu_worker/cpu/hello";
const BODY = JSON.stringify({ name: "Bench" });
const KEY = "rpa_bench_deploy_key_0123456789";
const out = (line: string) => process.stdout.write(`${line}\n`);

out(
  `load average at start: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(" ")}`,
);
registerFlashModules();

// 1. flash build of this repository (in a subprocess, as a user runs it); --skip-build leaves it out.
if (!process.argv.includes("--skip-build")) {
  const t = performance.now();
  const p = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), "build"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const ms = Math.round(performance.now() - t);
  const text = p.stdout.toString();
  const size = /artifact\s+\S+ \(([^,]+),/.exec(text)?.[1] ?? "?";
  const files = /files packaged\s+(\d+)/.exec(text)?.[1] ?? "?";
  const pkgs = /npm packages\s+(\d+)/.exec(text)?.[1] ?? "?";
  out(
    `flash build (this repository): ${ms} ms wall (exit ${p.exitCode}), artifact ${size}, ${files} files, ${pkgs} npm packages`,
  );
}

// 2–4. deploy to an emulator; first answer deployed vs live.
const ws = mkdtempSync(join(tmpdir(), "flash-bench-deploy-"));
writeFileSync(
  join(ws, "package.json"),
  JSON.stringify({ name: "bench", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }),
);
for (const ex of EXAMPLES)
  cpSync(join(REPO, ex), join(ws, ex), { recursive: true, filter: (p) => !p.includes("node_modules") });
cpSync(join(REPO, ".flashignore"), join(ws, ".flashignore"));
const em = startEmulator({ apiKey: KEY, workers: { env: { FLASH_WORKER_CACHE: join(ws, ".cache") } } });
const env = {
  ...process.env,
  RUNPOD_API_KEY: KEY,
  RUNPOD_API_BASE_URL: em.apiBaseUrl,
  RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
  RUNPOD_LB_BASE_URL: em.lbBaseUrl,
  NO_COLOR: "1",
};
async function flash(args: string[]): Promise<{ ms: number; code: number; text: string }> {
  const t = performance.now();
  const p = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { ms: Math.round(performance.now() - t), code, text };
}
try {
  const first = await flash(["deploy", "--yes"]);
  const again = await flash(["deploy", "--yes"]);
  out(
    `flash deploy to the emulator (${EXAMPLES.length} examples, 4 endpoints): first ${first.ms} ms (exit ${first.code}), unchanged ${again.ms} ms (exit ${again.code}${again.text.includes("Nothing to change") ? ", nothing changed" : ""})`,
  );
  const mothership = [...em.control.endpoints.values()].find((e) => e.name.includes("mothership"))!;
  const url = `${em.lbBaseUrl.replace("{id}", mothership.id)}${ROUTE}`;
  const t = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: BODY,
  });
  const cold = Math.round(performance.now() - t);
  await res.text();
  const t2 = performance.now();
  await (
    await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: BODY,
    })
  ).text();
  const warm = Math.round(performance.now() - t2);
  out(`deployed: mothership + worker start → first answer ${cold} ms (HTTP ${res.status}), next answer ${warm} ms`);
  await flash(["undeploy", "--all", "--yes"]);
  // Live mode: flash run --target emulator, its first call (provisions the endpoint, ships the code).
  const run = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "run", "--target", "emulator", "--port", "0"], {
    cwd: ws,
    env: { ...process.env, NO_COLOR: "1", FLASH_WORKER_CACHE: join(ws, ".cache") },
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const reader = run.stdout.getReader();
  const dec = new TextDecoder();
  let base = "";
  const until = Date.now() + 60_000;
  while (!base && Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value);
    base = /http:\/\/(?:localhost|127\.0\.0\.1):\d+/.exec(text)?.[0] ?? "";
  }
  if (base) {
    const t3 = performance.now();
    const live = await fetch(`${base}${ROUTE}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    await live.text();
    const liveCold = Math.round(performance.now() - t3);
    const t4 = performance.now();
    await (
      await fetch(`${base}${ROUTE}`, { method: "POST", headers: { "content-type": "application/json" }, body: BODY })
    ).text();
    out(
      `live (flash run --target emulator): first call ${liveCold} ms (HTTP ${live.status}), next call ${Math.round(performance.now() - t4)} ms`,
    );
  } else out("live: flash run did not print its URL within 60 s");
  run.kill("SIGINT");
  await run.exited;
} finally {
  await em.stop();
  rmSync(ws, { recursive: true, force: true });
}
