/**
 * Reload benchmark (issue 3): `flash run --watch` against the uvicorn `--reload` peer (what runpod/flash (Python)'s
 * `flash run` does on every save: restart the whole server), side by side in one run. Prints figures.
 *
 *   bun bench/reload.ts [--examples 500] [--edits 20] [--reloads 1000] [--peer-reloads 20] [--connections 8]
 *                       [--flash binary|source] [--only real,generated] [--tree head|worktree]
 *
 * For a copy of the real workspace (plus one probe example, `99_bench/01_probe`, whose worker is edited) and for
 * --examples generated examples:
 * 1. edit → first response showing the edit: rewrite the worker with a new VERSION, poll its POST route every 2 ms
 *    until the answer carries it; median and max over --edits edits;
 * 2. failed requests while a separate load process (bench/lib/loadgen.ts, --connections loops) POSTs to the
 *    edited route during --reloads reloads (--peer-reloads for uvicorn, whose restarts take seconds);
 * 3. flash's RSS at start, after a 1 s load warm-up, and after the reloads.
 */
import { loadavg, cpus } from "node:os";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { max, median, int, ms, ratio, verdict } from "./lib/stats";
import { printTable } from "./lib/table";
import { rssMiB, startTimed, stopProcess, type Command, type Running } from "./lib/proc";
import { ensureBinary, flashBinary, flashSource, havePython, uvicorn } from "./lib/servers";
import {
  ECHO_BODY,
  addExample,
  copyWorkspace,
  generateWorkspace,
  mirrorToPython,
  pyWorker,
  tsWorker,
  type BenchWorkspace,
  type GenExample,
} from "./lib/workspace";
import type { LoadSummary } from "./lib/loadgen";
import { REPO, engine, selectEngine } from "./lib/engine";

const { values: opts } = parseArgs({
  options: {
    examples: { type: "string", default: "500" },
    edits: { type: "string", default: "20" },
    reloads: { type: "string", default: "1000" },
    "peer-reloads": { type: "string", default: "20" },
    connections: { type: "string", default: "8" },
    flash: { type: "string", default: "binary" },
    only: { type: "string", default: "real,generated" },
    tree: { type: "string", default: "head" },
  },
});
const N = Number(opts.examples);
const EDITS = Number(opts.edits);
const RELOADS = Number(opts.reloads);
const PEER_RELOADS = Number(opts["peer-reloads"]);
const CONNECTIONS = Number(opts.connections);
const FLASH = opts.flash === "source" ? "source" : "binary";
const ONLY = new Set(opts.only!.split(","));
const EDIT_TIMEOUT_MS = 60_000;

type Side = "flash" | "uvicorn";

interface Case {
  label: string;
  ws: BenchWorkspace;
  probe: GenExample;
}

interface SideFigures {
  editMs: number[];
  load?: LoadSummary;
  reloads: number;
  rss?: { start: number; warm: number; end: number; trail: number[] };
  /** The same load for 3 s with no reload (flash only): the machine's latency floor at that moment. */
  baseline?: LoadSummary;
}

function command(side: Side, k: Case): Command {
  if (side === "uvicorn") return uvicorn(k.ws.py, true);
  return FLASH === "binary" ? flashBinary(k.ws.ts, true) : flashSource(k.ws.ts, true);
}

let versionCounter = 0;

/** Rewrite the probe's worker with a new VERSION (in place, as most editors save), return that version. */
function edit(side: Side, probe: GenExample): string {
  const version = `v${++versionCounter}`;
  if (side === "flash") writeFileSync(probe.tsFile, tsWorker(probe.category, probe.name, version));
  else writeFileSync(probe.pyFile, pyWorker(probe.category, probe.name, version));
  return version;
}

/** Poll the probe route every 2 ms until its answer carries `version`; the time since `since`, in ms. */
async function untilVersion(url: string, version: string, since: number): Promise<number> {
  const needle = `"version":"${version}"`;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(ECHO_BODY),
        signal: AbortSignal.timeout(5000),
      });
      if ((await res.text()).includes(needle)) return performance.now() - since;
    } catch {
      // restarting: keep polling
    }
    if (performance.now() - since > EDIT_TIMEOUT_MS)
      throw new Error(`${url} did not show ${version} within ${EDIT_TIMEOUT_MS} ms`);
    await Bun.sleep(2);
  }
}

/** One edit: write, then wait for the first response that shows it. */
async function editAndWait(side: Side, k: Case, running: Running): Promise<number> {
  const t0 = performance.now();
  const version = edit(side, k.probe);
  return untilVersion(running.url + k.probe.route, version, t0);
}

/** Start the load process against the probe route; resolves once it has had its first success. */
async function startLoad(url: string): Promise<{ stop(): Promise<LoadSummary> }> {
  const proc = Bun.spawn(
    [
      "bun",
      `${REPO}/bench/lib/loadgen.ts`,
      "--url",
      url,
      "--body",
      JSON.stringify(ECHO_BODY),
      "--connections",
      String(CONNECTIONS),
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`load process exited before its first success: ${text}`);
    text += decoder.decode(value);
  }
  return {
    async stop() {
      proc.kill("SIGTERM");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      await proc.exited;
      const line = text.trim().split("\n").pop()!;
      return JSON.parse(line) as LoadSummary;
    },
  };
}

async function benchSide(side: Side, k: Case): Promise<SideFigures> {
  const running = await startTimed(command(side, k), 120_000);
  try {
    // `flash run --watch` answers before its watcher is up (run.ts starts watching after listening); give both
    // sides a moment, or the first edit can land before anyone watches.
    await Bun.sleep(1000);
    const figures: SideFigures = { editMs: [], reloads: side === "flash" ? RELOADS : PEER_RELOADS };
    console.log(`  ${side}: ${EDITS} edits…`);
    for (let i = 0; i < EDITS; i++) figures.editMs.push(await editAndWait(side, k, running));

    if (side === "flash") {
      // The same load without reloads first: the latency floor of this machine at this moment, for the p99 target.
      console.log(`  ${side}: 3 s of load without reloads (baseline latency)…`);
      const quiet = await startLoad(running.url + k.probe.route);
      await Bun.sleep(3000);
      figures.baseline = await quiet.stop();
    }
    const rssStart = rssMiB(running.pid);
    console.log(`  ${side}: ${figures.reloads} reloads under load (${CONNECTIONS} connections)…`);
    const load = await startLoad(running.url + k.probe.route);
    await Bun.sleep(1000);
    const rssWarm = rssMiB(running.pid);
    const trail: number[] = [];
    const every = Math.max(1, Math.floor(figures.reloads / 4));
    for (let i = 1; i <= figures.reloads; i++) {
      await editAndWait(side, k, running);
      if (i % every === 0) trail.push(rssMiB(running.pid));
    }
    await Bun.sleep(200); // let requests that started on the last build finish
    figures.load = await load.stop();
    if (side === "flash") figures.rss = { start: rssStart, warm: rssWarm, end: rssMiB(running.pid), trail };
    return figures;
  } finally {
    await stopProcess(running.proc);
  }
}

/** Copy of the real workspace plus the probe example, with a Python mirror (served once by flash to read its routes). */
async function realCase(): Promise<Case> {
  const ws = copyWorkspace(engine.root);
  const probe = addExample(ws, "99_bench", "01_probe");
  const running = await startTimed(flashSource(ws.ts));
  try {
    const openapi = await (await fetch(`${running.url}/docs/json`)).json();
    const health = (await (await fetch(`${running.url}/health`)).json()) as {
      examples: any[];
      total_examples: number;
      errors: unknown[];
    };
    mirrorToPython(openapi, health.examples, ws.py);
    writeFileSync(probe.pyFile, pyWorker(probe.category, probe.name)); // the probe itself, not a mirror of it
    const note = health.errors.length ? `, ${health.errors.length} load errors` : "";
    return { label: `real workspace + probe (${health.total_examples} ex.${note})`, ws, probe };
  } finally {
    await stopProcess(running.proc);
  }
}

function generatedCase(): Case {
  const ws = generateWorkspace(N);
  return { label: `${N} generated`, ws, probe: ws.examples[ws.examples.length - 1]! };
}

function loadCell(f: SideFigures): string {
  const l = f.load;
  if (!l) return "—";
  const kinds = Object.entries(l.kinds)
    .map(([k, n]) => `${k}: ${n}`)
    .join(", ");
  return `${int(l.failed)} of ${int(l.ok + l.failed)}${kinds ? ` (${kinds})` : ""}`;
}

async function main(): Promise<void> {
  console.log(
    `reload benchmark — ${new Date().toISOString()} — ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `flash: ${FLASH === "binary" ? "./flash run --watch" : "bun cli.ts run --watch"}; peer: python -m uvicorn main:app --reload (watchgod)`,
  );
  console.log("(shared, noisy machine: treat the figures as indicative; compare within one run)");
  selectEngine(opts.tree!);
  console.log(`flash under test: ${engine.label}`);
  if (FLASH === "binary") await ensureBinary();
  const sides: Side[] = havePython() ? ["flash", "uvicorn"] : ["flash"];
  const rows: string[][] = [];
  const targets: string[][] = [];
  const rssRows: string[][] = [];
  for (const make of [ONLY.has("real") ? realCase : undefined, ONLY.has("generated") ? generatedCase : undefined]) {
    if (!make) continue;
    const k = await make();
    try {
      console.log(`${k.label}:`);
      const results = new Map<Side, SideFigures>();
      for (const side of sides) results.set(side, await benchSide(side, k));
      for (const [side, f] of results) {
        const perReload = f.load ? f.load.failed / f.reloads : Number.NaN;
        const l = f.load;
        rows.push([
          k.label,
          side,
          ms(median(f.editMs)),
          ms(max(f.editMs)),
          String(f.reloads),
          loadCell(f),
          perReload.toFixed(1),
          ms(l?.longestGapMs ?? NaN),
          l ? `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)}` : "—",
        ]);
        if (f.rss)
          rssRows.push([
            k.label,
            `${f.rss.start.toFixed(1)} MiB`,
            `${f.rss.warm.toFixed(1)} MiB`,
            `${f.rss.end.toFixed(1)} MiB`,
            `${(f.rss.end - f.rss.warm).toFixed(1)} MiB`,
            `${(f.rss.end - f.rss.start).toFixed(1)} MiB`,
            f.rss.trail.map((r) => r.toFixed(0)).join(" → "),
            `after − warm ≤ 5 MB over ${f.reloads}`,
            verdict((f.rss.end - f.rss.warm) * 1.048576 <= 5),
          ]);
      }
      const flash = results.get("flash")!;
      const peer = results.get("uvicorn");
      const r = peer ? median(flash.editMs) / median(peer.editMs) : Number.NaN;
      targets.push([
        k.label,
        "edit → new response vs uvicorn (median)",
        ratio(r),
        "≤ 0.05×",
        verdict(peer ? r <= 0.05 : undefined),
      ]);
      targets.push([
        k.label,
        `request latency p99 during ${flash.reloads} reloads`,
        ms(flash.load?.p99Ms ?? NaN),
        "≤ 5 ms",
        verdict(flash.load ? flash.load.p99Ms <= 5 : undefined),
      ]);
      targets.push([
        k.label,
        "request latency p99, same load, no reloads (baseline)",
        ms(flash.baseline?.p99Ms ?? NaN),
        "(reference)",
        "",
      ]);
      if (flash.rss)
        targets.push([
          k.label,
          `RSS after ${flash.reloads} reloads − RSS warm`,
          `${(flash.rss.end - flash.rss.warm).toFixed(1)} MiB`,
          "≤ 5 MB",
          verdict((flash.rss.end - flash.rss.warm) * 1.048576 <= 5),
        ]);
      targets.push([
        k.label,
        `failed requests over ${flash.reloads} reloads under load`,
        int(flash.load?.failed ?? NaN),
        "0",
        verdict(flash.load ? flash.load.failed === 0 : undefined),
      ]);
    } finally {
      k.ws.cleanup();
    }
  }
  printTable(
    `Edit → first response showing it (${EDITS} edits, polled every 2 ms), and failed requests under load (${CONNECTIONS} connections)`,
    [
      "workspace",
      "server",
      "median",
      "max",
      "reloads",
      "failed of total requests",
      "failed/reload",
      "longest gap",
      "latency p50 / p99 / max",
    ],
    rows,
  );
  printTable(
    "flash RSS: at start, after 1 s of load (warm), after the reloads (still under load); verdict on after − warm",
    [
      "workspace",
      "start",
      "warm",
      "after",
      "after − warm",
      "after − start",
      "MiB every ¼ of the reloads",
      "target",
      "verdict",
    ],
    rssRows,
  );
  printTable("Reload targets", ["workspace", "figure", "value", "target", "verdict"], targets);
}

await main();
