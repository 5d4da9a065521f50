/**
 * Serve benchmark (issue 2): flash against the Python peer (FastAPI under uvicorn, what the original's `flash run`
 * serves) and a raw `Bun.serve` ceiling, side by side in one run. Prints figures; asserts nothing.
 *
 *   bun bench/serve.ts [--runs 5] [--examples 500] [--seconds 5] [--only start,rps,help] [--tree head|worktree]
 *
 * 1. process start → first 200 on /health (polled every 2 ms; median of --runs), for the real workspace (this
 *    repository; the peer serves a Python mirror of its routes), for 1 and for --examples generated examples;
 * 2. requests/s of a POST route with a validated JSON body: `wrk -t2 -c32` in its own process, 1 s warm-up then
 *    --seconds measured, at 1 and at --examples examples; also how much CPU wrk and the server used;
 * 3. `flash --help` wall time (compiled binary and `bun cli.ts`), median of 10.
 */
import { loadavg, cpus } from "node:os";
import { parseArgs } from "node:util";
import { int, median, min, ms, ratio, verdict } from "./lib/stats";
import { printTable } from "./lib/table";
import { startTimed, stopProcess, timeCommand, rssMiB, type Command, type Running } from "./lib/proc";
import { ensureBinary, flashBin, flashBinary, flashSource, havePython, rawBun, uvicorn } from "./lib/servers";
import { engine, selectEngine } from "./lib/engine";
import { ECHO_BODY, echoAnswer, generateWorkspace, mirrorToPython, pythonWorkspace, type BenchWorkspace } from "./lib/workspace";
import { runWrk, writePostScript, type WrkResult } from "./lib/wrk";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    examples: { type: "string", default: "500" },
    seconds: { type: "string", default: "5" },
    only: { type: "string", default: "start,rps,help" },
    tree: { type: "string", default: "head" },
  },
});
const RUNS = Number(opts.runs);
const N = Number(opts.examples);
const SECONDS = Number(opts.seconds);
const ONLY = new Set(opts.only!.split(","));

type Contender = "flash (binary)" | "flash (bun cli.ts)" | "uvicorn peer" | "raw Bun.serve";
const CONTENDERS: Contender[] = ["flash (binary)", "flash (bun cli.ts)", "uvicorn peer", "raw Bun.serve"];

/** A workspace case: the flash folder and the peer's Python folder. */
interface Case {
  label: string;
  ts: string;
  py: string;
  examples: number;
  /** A POST route with a validated body that all contenders serve identically (generated cases only). */
  route?: string;
  expect?: Record<string, unknown>;
}

function commandFor(c: Contender, k: Case): Command {
  switch (c) {
    case "flash (binary)":
      return flashBinary(k.ts);
    case "flash (bun cli.ts)":
      return flashSource(k.ts);
    case "uvicorn peer":
      return uvicorn(k.py);
    case "raw Bun.serve":
      return rawBun();
  }
}

async function postEcho(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ECHO_BODY) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Check that a contender answers the case's route with the expected JSON (same JSON on every side). */
async function checkSame(running: Running, c: Contender, k: Case): Promise<void> {
  if (!k.route) return;
  const { status, body } = await postEcho(running.url + k.route);
  if (status !== 200 || JSON.stringify(body) !== JSON.stringify(k.expect)) {
    throw new Error(`${c} on ${k.label}: POST ${k.route} → ${status} ${JSON.stringify(body)}; expected ${JSON.stringify(k.expect)}`);
  }
  const bad = await fetch(running.url + k.route, { method: "POST", headers: { "content-type": "application/json" }, body: '{"count":3}' });
  await bad.arrayBuffer();
  if (bad.status !== 422) throw new Error(`${c} on ${k.label}: a body without "message" answered ${bad.status}, expected 422`);
}

/** Serve this repository with flash once, and write a Python mirror of its routes for the peer. */
async function mirrorRealWorkspace(): Promise<{ k: Case; cleanup(): void }> {
  const running = await startTimed(flashSource(engine.root));
  try {
    const openapi = await (await fetch(`${running.url}/docs/json`)).json();
    const health = (await (await fetch(`${running.url}/health`)).json()) as { examples: any[]; total_examples: number; errors: unknown[] };
    const pyWs = pythonWorkspace("real-py");
    const routes = mirrorToPython(openapi, health.examples, pyWs.py);
    const note = health.errors.length ? ` (${health.errors.length} load errors in the workspace)` : "";
    console.log(`real workspace: ${health.total_examples} examples, ${routes} routes mirrored for the peer${note}`);
    return { k: { label: `real workspace (${health.total_examples} ex.)`, ts: engine.root, py: pyWs.py, examples: health.total_examples }, cleanup: pyWs.cleanup };
  } finally {
    await stopProcess(running.proc);
  }
}

function genCase(ws: BenchWorkspace): Case {
  const ex = ws.examples[Math.floor(ws.examples.length / 2)]!;
  return { label: `${ws.examples.length} generated`, ts: ws.ts, py: ws.py, examples: ws.examples.length, route: ex.route, expect: echoAnswer(ex.category, ex.name) };
}

interface StartFigures {
  medianMs: number;
  minMs: number;
  rssMiB: number;
}

/** Start → first 200, `RUNS` times per contender, interleaved so that machine noise spreads over all of them. */
async function benchStart(k: Case, contenders: Contender[]): Promise<Map<Contender, StartFigures>> {
  const times = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  const rss = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const c of contenders) {
      const running = await startTimed(commandFor(c, k));
      times.get(c)!.push(running.startMs);
      rss.get(c)!.push(rssMiB(running.pid));
      if (run === 0) await checkSame(running, c, k);
      await stopProcess(running.proc);
    }
  }
  return new Map(contenders.map((c) => [c, { medianMs: median(times.get(c)!), minMs: min(times.get(c)!), rssMiB: median(rss.get(c)!) }]));
}

/** Requests/s of the case's POST route under wrk (1 s warm-up, then `SECONDS` measured). */
async function benchRps(k: Case, c: Contender, script: string): Promise<WrkResult> {
  const running = await startTimed(commandFor(c, k));
  try {
    await checkSame(running, c, k);
    await runWrk(running.url + k.route, script, { seconds: 1 });
    return await runWrk(running.url + k.route, script, { seconds: SECONDS, serverPid: running.pid });
  } finally {
    await stopProcess(running.proc);
  }
}

/** Ten timed runs of a command, or the error it failed with. */
async function tenRuns(argv: string[]): Promise<number[] | Error> {
  const times: number[] = [];
  try {
    for (let i = 0; i < 10; i++) times.push(await timeCommand(argv, engine.root));
    return times;
  } catch (err) {
    return err as Error;
  }
}

async function main(): Promise<void> {
  console.log(`serve benchmark — ${new Date().toISOString()} — ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log("(shared, noisy machine: treat the figures as indicative; compare within one run)");
  selectEngine(opts.tree!);
  console.log(`flash: ${engine.label}`);
  await ensureBinary();
  const contenders = havePython() ? CONTENDERS : CONTENDERS.filter((c) => c !== "uvicorn peer");
  if (!contenders.includes("uvicorn peer")) console.log("no uvicorn peer: apt-get install python3-fastapi python3-uvicorn python3-httptools python3-uvloop");
  const cleanups: (() => void)[] = [];
  try {
    const needWorkspaces = ONLY.has("start") || ONLY.has("rps");
    const real = ONLY.has("start") ? await mirrorRealWorkspace() : undefined;
    if (real) cleanups.push(real.cleanup);
    const gen1 = needWorkspaces ? generateWorkspace(1) : undefined;
    const genN = needWorkspaces ? generateWorkspace(N) : undefined;
    for (const ws of [gen1, genN]) if (ws) cleanups.push(ws.cleanup);

    if (ONLY.has("start")) {
      const cases = [real!.k, genCase(gen1!), genCase(genN!)];
      const results = new Map<string, Map<Contender, StartFigures>>();
      for (const k of cases) {
        console.log(`start: ${k.label}…`);
        results.set(k.label, await benchStart(k, contenders));
      }
      printTable(
        `Process start → first 200 on /health (median of ${RUNS}; min in brackets; RSS when ready)`,
        ["workspace", ...contenders],
        cases.map((k) => [k.label, ...contenders.map((c) => { const f = results.get(k.label)!.get(c)!; return `${ms(f.medianMs)} [${ms(f.minMs)}] ${f.rssMiB.toFixed(0)} MiB`; })]),
      );
      const rows: string[][] = [];
      for (const flash of ["flash (binary)", "flash (bun cli.ts)"] as Contender[]) {
        for (const k of [cases[0]!, cases[2]!]) {
          const f = results.get(k.label)!.get(flash)!.medianMs;
          const p = results.get(k.label)!.get("uvicorn peer")?.medianMs ?? Number.NaN;
          rows.push([flash, `start vs uvicorn, ${k.label}`, ratio(f / p), "≤ 0.20×", verdict(Number.isFinite(p) ? f / p <= 0.2 : undefined)]);
        }
        const per = (results.get(cases[2]!.label)!.get(flash)!.medianMs - results.get(cases[1]!.label)!.get(flash)!.medianMs) / (N - 1);
        rows.push([flash, `added per example (${N} vs 1)`, ms(per), "≤ 2 ms", verdict(per <= 2)]);
      }
      const peerPer = (results.get(cases[2]!.label)!.get("uvicorn peer")?.medianMs ?? NaN) - (results.get(cases[1]!.label)!.get("uvicorn peer")?.medianMs ?? NaN);
      rows.push(["uvicorn peer", `added per example (${N} vs 1)`, ms(peerPer / (N - 1)), "(reference)", ""]);
      printTable("Start targets", ["who", "figure", "value", "target", "verdict"], rows);
    }

    if (ONLY.has("rps")) {
      const script = writePostScript(gen1!.base, ECHO_BODY);
      const cases = [genCase(gen1!), genCase(genN!)];
      const results = new Map<string, Map<Contender, WrkResult>>();
      for (const k of cases) {
        const byContender = new Map<Contender, WrkResult>();
        for (const c of contenders) {
          console.log(`rps: ${k.label}, ${c}…`);
          byContender.set(c, await benchRps(k, c, script));
        }
        results.set(k.label, byContender);
      }
      printTable(
        `Requests/s, POST {category}/{example}/cpu/echo with a validated JSON body — wrk -t2 -c32 -d${SECONDS}s (after 1 s warm-up)`,
        ["workspace", "contender", "req/s", "latency avg", "non-2xx", "socket err", "server CPU", "wrk CPU"],
        cases.flatMap((k) =>
          contenders.map((c) => {
            const r = results.get(k.label)!.get(c)!;
            return [k.label, c, int(r.rps), r.latencyAvg, int(r.non2xx), int(r.socketErrors), `${r.serverCores.toFixed(2)} cores`, `${r.wrkCores.toFixed(2)} cores`];
          }),
        ),
      );
      const rows: string[][] = [];
      for (const flash of ["flash (binary)", "flash (bun cli.ts)"] as Contender[]) {
        for (const k of cases) {
          const r = results.get(k.label)!;
          const f = r.get(flash)!.rps;
          const p = r.get("uvicorn peer")?.rps ?? Number.NaN;
          const raw = r.get("raw Bun.serve")!.rps;
          rows.push([flash, `req/s vs uvicorn, ${k.label}`, ratio(f / p), "≥ 5×", verdict(Number.isFinite(p) ? f / p >= 5 : undefined)]);
          rows.push([flash, `req/s vs raw Bun.serve, ${k.label}`, ratio(f / raw), "≥ 0.7×", verdict(f / raw >= 0.7)]);
        }
      }
      printTable("Requests/s targets", ["who", "figure", "value", "target", "verdict"], rows);
    }

    if (ONLY.has("help")) {
      console.log("help: 10 × ./flash --help, 10 × bun cli.ts --help…");
      const row = (label: string, t: number[] | Error, target: string, check: boolean) =>
        t instanceof Error
          ? [label, "failed", "—", target, `error: ${t.message.split("\n").pop()}`]
          : [label, ms(median(t)), ms(min(t)), target, check ? verdict(median(t) <= 50) : ""];
      printTable("`flash --help` wall time (10 runs)", ["command", "median", "min", "target", "verdict"], [
        row("./flash --help", await tenRuns([flashBin(), "--help"]), "≤ 50 ms", true),
        row("bun cli.ts --help", await tenRuns(["bun", "cli.ts", "--help"]), "(reference)", false),
      ]);
    }
  } finally {
    for (const c of cleanups) c();
  }
}

await main();
