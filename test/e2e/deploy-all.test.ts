/**
 * The whole repository deployed at once: every example folder, from the workspace root, with one `flash deploy` to
 * one emulator, where every endpoint's workers are containers of its template's image started by its start command.
 * Beside it, one `flash run` of the same tree. Every request of every example's README (its curls, with bash, run in
 * README order) goes once through the deployed mothership's App URL and once through `flash run`: same exit code,
 * same status, same JSON (streams: the same events). A route no README calls is called too, with an empty body.
 * What a README sets up for its routes is set up on the same emulator: images it maps with `flash emulator --image`,
 * the endpoint its routes call (given to the mothership through the config's env, in a root `mothership.ts`).
 * The checkout is never written: everything runs in a temp copy of it (node_modules hard-linked).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest } from "../../core/deploy/manifest";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { seedWorkerDependencies } from "../helpers/emulator";
import { type ReadmeRequest, readmeRequests, stable } from "../helpers/readme";
import { DEPLOY_TIER, RUNS_IN_DEPLOY_TIER } from "../helpers/tiers";
import { type FlashProcess, finished, REPO, removeDir, startFlash } from "../helpers/workspace";

const KEY = "rpa_deploy_all_test_0123456789";
/**
 * The deploy tier (`bun run test:deploy`, which CI runs after `test:all`; test/helpers/tiers.ts): about 31 containers
 * each unpack the whole app's artifact, as Runpod's workers do, which alone takes longer than the suite's budget.
 */
const ENABLED = DEPLOY_TIER;
const EXAMPLE = /^\d\d_[^/]+\/\d\d_[^/]+$/;
/** Examples whose requests run at the same time. */
const PARALLEL_EXAMPLES = 4;

/** What a README request printed on one side. */
interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Files the command wrote with `--output`/`-o`: name → sha256. */
  files: Record<string, string>;
}

/**
 * The custom images the READMEs run locally: every `flash emulator --image img=cmd` of their bash blocks (a README
 * shows it where an example's endpoint runs its own image). The commands name paths from the repository root.
 */
function readmeImages(root: string): Record<string, string> {
  const images: Record<string, string> = {};
  for (const ex of examples) {
    const text = readFileSync(join(root, ex, "README.md"), "utf8").replace(/\\\n\s*/g, " ");
    for (const m of text.matchAll(/--image (\S+?)=(?:"([^"]*)"|'([^']*)')/g))
      images[m[1]!] = `cd '${root}' && ${m[2] ?? m[3]}`;
  }
  return images;
}

/**
 * The endpoints a README creates for its routes to call (`export NAME=$(curl …/graphql … saveEndpoint …)`), made on
 * this emulator with the README's own GraphQL body: NAME → the endpoint's id (the last one, when a README makes it in
 * more than one block).
 */
async function readmeEndpoints(root: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const ex of examples) {
    const text = readFileSync(join(root, ex, "README.md"), "utf8").replace(/\\\n\s*/g, " ");
    for (const m of text.matchAll(/export (\w+)=\$\(curl [^\n]*?\/graphql [^\n]*?-d '(\{[^']*saveEndpoint[^']*\})'/g)) {
      const res = await em.control.execute(JSON.parse(m[2]!).query);
      const id = (res.body.data as { saveEndpoint?: { id: string } } | undefined)?.saveEndpoint?.id;
      if (!id) throw new Error(`${ex}: the README's saveEndpoint failed: ${JSON.stringify(res.body)}`);
      ids[m[1]!] = id;
      readmeMade.add(id);
    }
  }
  return ids;
}

/** A README request that this test does not replay, with why. */
function notReplayed(request: ReadmeRequest): string | undefined {
  if (/\bflash deploy\b/.test(request.command)) return "deploys by itself (its README's test runs it)";
  if (/\bsaveEndpoint\b/.test(request.command)) return "creates an endpoint on an emulator of its own";
  return undefined;
}

let tmp = "";
let ws = "";
let em: Emulator;
let run: FlashProcess | undefined;
let manifest: Manifest;
let appUrl = "";
let deployOut = "";
let images: Record<string, string> = {};
/** Ids of the endpoints the READMEs made (not deployed). */
const readmeMade = new Set<string>();
/** Every example folder (`category/example` with a README): a new lesson is picked up when it lands. */
const examples = readdirSync(REPO)
  .filter((d) => /^\d\d_/.test(d))
  .flatMap((c) => readdirSync(join(REPO, c)).map((e) => `${c}/${e}`))
  .filter((e) => EXAMPLE.test(e) && existsSync(join(REPO, e, "README.md")))
  .sort();

/** Copy the checkout (sources, each example's package links; not .git, .flash or build output) into `dest`. */
function copyCheckout(dest: string): void {
  const skip = new Set([".git", ".flash", "node_modules", "dist", "flash"]);
  for (const entry of readdirSync(REPO)) {
    if (skip.has(entry) || entry.startsWith(".env") || entry.endsWith(".bun-build")) continue;
    cpSync(join(REPO, entry), join(dest, entry), {
      recursive: true,
      verbatimSymlinks: true,
      // An example's node_modules holds links into the root's (kept: the build and the workers resolve through them).
      filter: (p) => !/\/(\.flash|\.out)$/.test(p) && (!p.endsWith("/node_modules") || EXAMPLE.test(exampleOf(p))),
    });
  }
  // The installed packages as hard links (no bytes copied): a build ships only packages inside the workspace, so a
  // symlink to the checkout's node_modules would leave them out.
  const cp = Bun.spawnSync(["cp", "-al", join(REPO, "node_modules"), join(dest, "node_modules")], { stderr: "pipe" });
  if (cp.exitCode !== 0) throw new Error(`cp -al node_modules failed: ${cp.stderr.toString()}`);
}

/** `category/example` of a path inside the checkout's copy (or "" when it is not one's own folder). */
function exampleOf(path: string): string {
  const rel = path.slice(REPO.length + 1).split("/");
  return rel.length === 3 ? `${rel[0]}/${rel[1]}` : "";
}

/** Run `flash` from source in the copy, without blocking this process (the emulator answers from it). */
async function flash(args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env: {
      ...process.env,
      RUNPOD_API_KEY: KEY,
      RUNPOD_API_BASE_URL: em.apiBaseUrl,
      RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
      RUNPOD_LB_BASE_URL: em.lbBaseUrl,
      NO_COLOR: "1",
    },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  return finished(proc);
}

/**
 * Run a README request with bash from `cwd`, its `localhost:8888` replaced by `base` (host and path); `key` adds the
 * Runpod key to every curl (the mothership's URL is not public).
 */
async function replay(command: string, base: string, cwd: string, key?: string): Promise<Outcome> {
  const auth = key ? `curl() { command curl -H "Authorization: Bearer ${key}" "$@"; }\n` : "";
  const proc = Bun.spawn(["bash", "-c", auth + command.replaceAll("localhost:8888", base)], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const files: Record<string, string> = {};
  for (const m of command.matchAll(/(?:--output|-o) (\S+)/g)) {
    const path = join(cwd, m[1]!);
    files[m[1]!] = existsSync(path) ? fileFacts(readFileSync(path)) : "missing";
  }
  return { code, stdout, stderr, files };
}

/**
 * A file a request wrote, as compared: its size and first 64 bytes (a WAV's header: format, rate, length). Not its
 * bytes: synthesized audio differs from run to run (the README harness treats `audio_base64` as volatile too).
 */
function fileFacts(data: Uint8Array): string {
  return `${data.length} bytes, starting ${Buffer.from(data.subarray(0, 64)).toString("hex")}`;
}

/**
 * Values that differ between two correct answers here beyond the README harness's `stable` (ids, timings, workers):
 * key → why.
 */
const ALSO_VOLATILE: Record<string, string> = {
  // Which worker takes a call is the scaler's choice: a deployed endpoint's slower cold start (unpacking the
  // artifact) makes it start a second worker where `flash run`'s pool keeps one, so a worker's own state differs.
  instance_calls: "calls served by this worker's instance of a class (05_data_workflows/01_network_volumes)",
  model_source: "where this worker loaded its weights from: a later worker finds them on the volume (same example)",
  model_loads: "models this worker's instance has loaded (05_data_workflows/03_train_and_serve)",
};

function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !(k in ALSO_VOLATILE))
        .map(([k, v]) => [k, withoutVolatile(v)]),
    );
  }
  return value;
}

/**
 * A Server-Sent Events stream's events, comments left out: a `: keep-alive` comment is sent when a chunk is slow to
 * come (a cold start), and is no event (WHATWG HTML, "Server-sent events": a line starting with a colon is ignored).
 */
function sseEvents(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => !line.startsWith(":"))
        .join("\n"),
    )
    .filter((event) => event.trim() !== "");
}

/** An outcome as compared: JSON without the values that differ from call to call, else the stream's events. */
function comparable(o: Outcome): unknown {
  let body: unknown;
  try {
    body = withoutVolatile(stable(JSON.parse(o.stdout)));
  } catch {
    // not one JSON document: a stream read with curl -N (or nothing, when the answer went to a file)
    body = sseEvents(o.stdout);
  }
  return { code: o.code, body, files: o.files };
}

/** A route's path as a pattern (`:id` matches one segment). */
function routePattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/:[^/]+/g, "[^/?\"' ]+")}(?:[?\"' ]|$)`);
}

beforeAll(async () => {
  if (!ENABLED) return;
  tmp = mkdtempSync(join(tmpdir(), "flash-deploy-all-"));
  ws = join(tmp, "flash-examples");
  mkdirSync(ws);
  copyCheckout(ws);
  const cache = join(ws, ".flash", "worker-cache");
  images = readmeImages(ws);
  em = startEmulator({
    apiKey: KEY,
    workers: { env: { FLASH_WORKER_CACHE: cache }, volumesDir: join(tmp, "emulator-volumes"), images },
  });
  // An endpoint a README's routes call (03_calling_endpoints) exists on this emulator; both sides call it, the
  // mothership with the settings its config's env gives it (that README: "through the config's env").
  const made = await readmeEndpoints(ws);
  const called = { ...made, RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl };
  writeFileSync(
    join(ws, "mothership.ts"),
    `import { CpuLiveLoadBalancer } from "flash";\nexport const mothership = new CpuLiveLoadBalancer({ name: "flash-examples-mothership", workersMax: 3, env: ${JSON.stringify(called)} });\n`,
  );
  // The deploy and `flash run` start at once: neither reads what the other writes.
  const [deployed, local] = await Promise.all([
    flash(["deploy", "--yes"]),
    startFlash(ws, [], { FLASH_WORKER_CACHE: join(tmp, "run-cache"), ...called, RUNPOD_API_KEY: KEY }),
  ]);
  run = local;
  deployOut = deployed.out;
  if (deployed.code !== 0) throw new Error(`flash deploy failed (exit ${deployed.code}):\n${deployed.out}`);
  appUrl = deployed.out.match(/App URL: (\S+)/)![1]!;
  manifest = JSON.parse(readFileSync(join(ws, ".flash", "flash_manifest.json"), "utf8"));
  for (const resource of Object.values(manifest.resources)) {
    for (const fn of resource.functions) seedWorkerDependencies(cache, join(ws, fn.module), fn.dependencies);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([run?.stop(), em?.stop()]);
  if (tmp) removeDir(tmp);
}, 60_000);

describe.skipIf(!ENABLED)(
  `the repository's examples deployed at once, against flash run (${RUNS_IN_DEPLOY_TIER})`,
  () => {
    test("one deploy: an endpoint per config of every example plus the mothership, each a container", () => {
      expect(deployOut).toContain("0 to update, 0 to delete, 0 to keep");
      const deployed = [...em.control.endpoints.values()].filter((e) => !readmeMade.has(e.id));
      const names = new Set(deployed.map((e) => e.name.replace(/-fb$/, "")));
      expect([...names].sort()).toEqual(Object.keys(manifest.resources).sort());
      for (const e of deployed) {
        const template = em.control.templateOf(e)!;
        // An image a README runs locally runs that command; every other one is a container of a stock image the
        // emulator models, started by the template's start command (which runs the artifact's runtime).
        const custom = template.imageName in images;
        expect({ endpoint: e.name, launch: em.supervisor.launch(e).kind }).toEqual({
          endpoint: e.name,
          launch: custom ? "mapped" : "container",
        });
        if (!custom) expect(template.dockerArgs).toContain('"$FLASH_DEPLOY_START" | base64 -d');
      }
      // Every example with routes is served by the one mothership.
      const served = new Set(Object.values(manifest.routes[manifest.mothership]!));
      for (const ex of served) expect(examples).toContain(ex);
    });

    test("the mothership serves the routes flash run serves: the same OpenAPI operations, the deploy's route list", async () => {
      const operations = async (base: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${base}/docs/json`, { headers });
        expect(res.status).toBe(200);
        const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
        return Object.entries(doc.paths)
          .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
          .sort();
      };
      const [deployed, local] = await Promise.all([
        operations(appUrl, { authorization: `Bearer ${KEY}` }),
        operations(run!.url),
      ]);
      expect(deployed).toEqual(local);
      const routes = Object.keys(manifest.routes[manifest.mothership]!).map((r) => r.replace(/:(\w+)/g, "{$1}"));
      for (const route of routes) expect(local).toContain(route);
    }, 180_000); // the first call through the mothership waits out its cold start (it unpacks the artifact)

    // Each example's README requests run in order (a later one may read what an earlier one wrote); a few examples run
    // at once, and each request reaches both sides at once (each side has its own volumes and jobs).
    const results = new Map<string, Promise<{ request: ReadmeRequest; deployed: Outcome; local: Outcome }[]>>();
    // A few examples at a time: every cold start at once on a busy 2-core machine makes each slow enough for the
    // scaler to add workers (each unpacking the artifact), which slows every other one further.
    let running = 0;
    const waiting: (() => void)[] = [];
    const slot = async () => {
      if (running < PARALLEL_EXAMPLES) running++;
      else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over by release
    };
    const release = () => {
      const next = waiting.shift();
      if (next) next();
      else running--;
    };
    const exampleRuns = (ex: string) => {
      if (!results.has(ex))
        results.set(
          ex,
          slot().then(() => replayExample(ex).finally(release)),
        );
      return results.get(ex)!;
    };

    async function replayExample(ex: string) {
      const readme = readFileSync(join(ws, ex, "README.md"), "utf8");
      const requests = readmeRequests(readme).filter((r) => !notReplayed(r));
      // Each side runs in a folder of its own holding the example's files (a request may write one with --output).
      const localDir = join(ws, ex);
      const deployedDir = join(tmp, "deployed-cwd", ex);
      cpSync(localDir, deployedDir, { recursive: true, filter: (p) => !p.endsWith("/node_modules") });
      const lb = appUrl.replace(/^http:\/\//, "");
      const local = run!.url.replace(/^http:\/\//, "");
      const out: { request: ReadmeRequest; deployed: Outcome; local: Outcome }[] = [];
      for (const request of requests) {
        const [d, l] = await Promise.all([
          replay(request.command, lb, deployedDir, KEY),
          replay(request.command, local, localDir),
        ]);
        out.push({ request, deployed: d, local: l });
      }
      // A route of the example that no README request calls: an empty body (GET: none), both sides.
      const routes = Object.entries(manifest.routes[manifest.mothership]!)
        .filter(([, owner]) => owner === ex)
        .map(([route]) => route);
      for (const route of routes) {
        const [method, path] = route.split(" ") as [string, string];
        const called = requests.some((r) =>
          r.command
            .split(/localhost:8888/)
            .slice(1)
            .some((rest) => routePattern(path).test(rest)),
        );
        if (called) continue;
        const concrete = path.replace(/:[^/]+/g, "x");
        const data = method === "GET" ? "" : ` -H 'content-type: application/json' -d '{}'`;
        const command = `curl -s -X ${method} http://localhost:8888${concrete}${data}`;
        const [d, l] = await Promise.all([replay(command, lb, deployedDir, KEY), replay(command, local, localDir)]);
        out.push({ request: { command }, deployed: d, local: l });
      }
      return out;
    }

    for (const ex of examples) {
      test(`${ex}: every README request and route answers the same through the mothership as through flash run`, async () => {
        // Start every example's requests now: the tests after this one find theirs under way.
        for (const other of examples) void exampleRuns(other).catch(() => {});
        const runs = await exampleRuns(ex);
        const differing = runs
          .filter((r) => Bun.deepEquals(comparable(r.deployed), comparable(r.local)) === false)
          .map((r) => ({
            request: r.request.command.slice(0, 160),
            deployed: comparable(r.deployed),
            deployedStderr: r.deployed.stderr.slice(-400),
            local: comparable(r.local),
          }));
        expect(differing).toEqual([]);
        // A request that failed on both sides is not an answer: the README's requests must succeed.
        const failed = runs.filter((r) => r.local.code !== 0).map((r) => [r.request.command.slice(0, 120), r.local]);
        expect(failed).toEqual([]);
      }, 180_000);
    }
  },
);
