/**
 * Serve benchmark (issue 2): flash against the Python peer (FastAPI under uvicorn, what `flash run` of runpod/flash (Python)
 * serves) and a raw `Bun.serve` ceiling, side by side in one run. Prints figures; asserts nothing.
 *
 *   bun bench/serve.ts [--runs 5] [--examples 500] [--seconds 5] [--rounds 3] [--only start,rps,help] [--tree head|worktree]
 *
 * 1. process start → first 200 on /health (polled every 2 ms; median of --runs), for the real workspace (this
 *    repository; the peer serves a Python mirror of its routes), for 1 and for --examples generated examples;
 * 2. requests/s of a POST route with a validated JSON body: `wrk -t2 -c32` in its own process, --rounds interleaved
 *    rounds of a 1 s warm-up then --seconds measured, at 1 and at --examples examples; also the CPU wrk and the
 *    server used;
 * 3. `flash --help` wall time (compiled binary and `bun cli.ts`), median of 10.
 */
import { loadavg, cpus } from "node:os";
import { parseArgs } from "node:util";
import { int, median, min, ms, ratio, verdict } from "./lib/stats";
import { printTable } from "./lib/table";
import { startTimed, stopProcess, timeCommand, rssMiB, type Command, type Running } from "./lib/proc";
import { ensureBinary, flashBin, flashBinary, flashSource, havePython, rawBun, uvicorn } from "./lib/servers";
import { engine, selectEngine } from "./lib/engine";
import {
  ECHO_BODY,
  echoAnswer,
  generateWorkspace,
  mirrorToPython,
  pythonWorkspace,
  type BenchWorkspace,
} from "./lib/workspace";
import { runWrk, writePostScript, type WrkResult } from "./lib/wrk";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    examples: { type: "string", default: "500" },
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    only: { type: "string", default: "start,rps,help" },
    tree: { type: "string", default: "head" },
  },
});
const RUNS = Number(opts.runs);
const N = Number(opts.examples);
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
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
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ECHO_BODY),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Check that a contender answers the case's route with the expected JSON (same JSON on every side). */
async function checkSame(running: Running, c: Contender, k: Case): Promise<void> {
  if (!k.route) return;
  const { status, body } = await postEcho(running.url + k.route);
  if (status !== 200 || JSON.stringify(body) !== JSON.stringify(k.expect)) {
    throw new Error(
      `${c} on ${k.label}: POST ${k.route} → ${status} ${JSON.stringify(body)}; expected ${JSON.stringify(k.expect)}`,
    );
  }
  const bad = await fetch(running.url + k.route, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"count":3}',
  });
  await bad.arrayBuffer();
  if (bad.status !== 422)
    throw new Error(`${c} on ${k.label}: a body without "message" answered ${bad.status}, expected 422`);
}

/** Serve this repository with flash once, and write a Python mirror of its routes for the peer. */
async function mirrorRealWorkspace(): Promise<{ k: Case; cleanup(): void }> {
  const running = await startTimed(flashSource(engine.root));
  try {
    const openapi = await (await fetch(`${running.url}/docs/json`)).json();
    const health = (await (await fetch(`${running.url}/health`)).json()) as {
      examples: any[];
      total_examples: number;
      errors: unknown[];
    };
    const pyWs = pythonWorkspace("real-py");
    const routes = mirrorToPython(openapi, health.examples, pyWs.py);
    const note = health.errors.length ? ` (${health.errors.length} load errors in the workspace)` : "";
    console.log(`real workspace: ${health.total_examples} examples, ${routes} routes mirrored for the peer${note}`);
    return {
      k: {
        label: `real workspace (${health.total_examples} ex.)`,
        ts: engine.root,
        py: pyWs.py,
        examples: health.total_examples,
      },
      cleanup: pyWs.cleanup,
    };
  } finally {
    await stopProcess(running.proc);
  }
}

function genCase(ws: BenchWorkspace): Case {
  const ex = ws.examples[Math.floor(ws.examples.length / 2)]!;
  return {
    label: `${ws.examples.length} generated`,
    ts: ws.ts,
    py: ws.py,
    examples: ws.examples.length,
    route: ex.route,
    expect: echoAnswer(ex.category, ex.name),
  };
}

interface StartFigures {
  medianMs: number;
  minMs: number;
  cpuMs: number;
  rssMiB: number;
}

/** Start → first 200, `RUNS` times per contender, interleaved so that machine noise spreads over all of them. */
async function benchStart(k: Case, contenders: Contender[]): Promise<Map<Contender, StartFigures>> {
  const times = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  const rss = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  const cpu = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const c of contenders) {
      const running = await startTimed(commandFor(c, k));
      times.get(c)!.push(running.startMs);
      rss.get(c)!.push(rssMiB(running.pid));
      cpu.get(c)!.push(running.startCpuMs);
      if (run === 0) await checkSame(running, c, k);
      await stopProcess(running.proc);
    }
  }
  return new Map(
    contenders.map((c) => [
      c,
      {
        medianMs: median(times.get(c)!),
        minMs: min(times.get(c)!),
        cpuMs: median(cpu.get(c)!),
        rssMiB: median(rss.get(c)!),
      },
    ]),
  );
}

/**
 * Requests/s of the case's POST route under wrk: every contender started once, then `ROUNDS` rounds in which each
 * gets a 1 s warm-up and a `SECONDS` run in turn, so that a burst of load elsewhere on the machine spreads over all.
 */
async function benchRps(k: Case, contenders: Contender[], script: string): Promise<Map<Contender, WrkResult[]>> {
  const running = new Map<Contender, Running>();
  const results = new Map<Contender, WrkResult[]>(contenders.map((c) => [c, []]));
  try {
    for (const c of contenders) {
      const r = await startTimed(commandFor(c, k));
      running.set(c, r);
      await checkSame(r, c, k);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const r = running.get(c)!;
        await runWrk(r.url + k.route, script, { seconds: 1 });
        results.get(c)!.push(await runWrk(r.url + k.route, script, { seconds: SECONDS, serverPid: r.pid }));
      }
    }
    return results;
  } finally {
    for (const r of running.values()) await stopProcess(r.proc);
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
  console.log(
    `serve benchmark — ${new Date().toISOString()} — ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log("(shared, noisy machine: treat the figures as indicative; compare within one run)");
  selectEngine(opts.tree!);
  console.log(`flash: ${engine.label}`);
  await ensureBinary();
  const contenders = havePython() ? CONTENDERS : CONTENDERS.filter((c) => c !== "uvicorn peer");
  if (!contenders.includes("uvicorn peer"))
    console.log("no uvicorn peer: apt-get install python3-fastapi python3-uvicorn python3-httptools python3-uvloop");
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
        `Process start → first 200 on /health: wall median of ${RUNS} [min], CPU used by then (median), RSS when ready`,
        ["workspace", ...contenders],
        cases.map((k) => [
          k.label,
          ...contenders.map((c) => {
            const f = results.get(k.label)!.get(c)!;
            return `${ms(f.medianMs)} [${ms(f.minMs)}] cpu ${ms(f.cpuMs)} ${f.rssMiB.toFixed(0)} MiB`;
          }),
        ]),
      );
      const rows: string[][] = [];
      for (const flash of ["flash (binary)", "flash (bun cli.ts)"] as Contender[]) {
        for (const k of [cases[0]!, cases[2]!]) {
          const f = results.get(k.label)!.get(flash)!;
          const p = results.get(k.label)!.get("uvicorn peer");
          const wall = p ? f.medianMs / p.medianMs : Number.NaN;
          const cpuRatio = p ? f.cpuMs / p.cpuMs : Number.NaN;
          // Issue 12: ≤ 0.15× uvicorn on the real workspace (issue 2 asked ≤ 0.20× of both).
          const goal = k === cases[0] ? 0.15 : 0.2;
          rows.push([
            flash,
            `start vs uvicorn, ${k.label} (wall)`,
            ratio(wall),
            `≤ ${goal.toFixed(2)}×`,
            verdict(p ? wall <= goal : undefined),
          ]);
          const raw = results.get(k.label)!.get("raw Bun.serve");
          if (raw) {
            const vsRaw = f.medianMs / raw.medianMs;
            rows.push([flash, `start vs bare Bun.serve, ${k.label} (wall)`, ratio(vsRaw), "≤ 3×", verdict(vsRaw <= 3)]);
          }
          rows.push([
            flash,
            `start vs uvicorn, ${k.label} (CPU)`,
            ratio(cpuRatio),
            "(≤ 0.20×)",
            verdict(p ? cpuRatio <= 0.2 : undefined),
          ]);
        }
        const at = (k: Case) => results.get(k.label)!.get(flash)!;
        const per = (at(cases[2]!).medianMs - at(cases[1]!).medianMs) / (N - 1);
        const perCpu = (at(cases[2]!).cpuMs - at(cases[1]!).cpuMs) / (N - 1);
        rows.push([flash, `added per example (${N} vs 1, wall)`, ms(per), "≤ 2 ms", verdict(per <= 2)]);
        rows.push([flash, `added per example (${N} vs 1, CPU)`, ms(perCpu), "(≤ 2 ms)", verdict(perCpu <= 2)]);
      }
      const peerPer =
        (results.get(cases[2]!.label)!.get("uvicorn peer")?.medianMs ?? NaN) -
        (results.get(cases[1]!.label)!.get("uvicorn peer")?.medianMs ?? NaN);
      rows.push(["uvicorn peer", `added per example (${N} vs 1)`, ms(peerPer / (N - 1)), "(reference)", ""]);
      printTable("Start targets", ["who", "figure", "value", "target", "verdict"], rows);
    }

    if (ONLY.has("rps")) {
      const script = writePostScript(gen1!.base, ECHO_BODY);
      const cases = [genCase(gen1!), genCase(genN!)];
      const results = new Map<string, Map<Contender, WrkResult[]>>();
      for (const k of cases) {
        console.log(`rps: ${k.label}, ${ROUNDS} interleaved rounds…`);
        results.set(k.label, await benchRps(k, contenders, script));
      }
      printTable(
        `Requests/s, POST {category}/{example}/cpu/echo with a validated JSON body — wrk -t2 -c32 -d${SECONDS}s, ${ROUNDS} interleaved rounds (after 1 s warm-up each): median [best]`,
        [
          "workspace",
          "contender",
          "req/s",
          "latency avg",
          "non-2xx",
          "socket err",
          "server CPU",
          "wrk CPU",
          "req per server CPU-s",
        ],
        cases.flatMap((k) =>
          contenders.map((c) => {
            const rs = results.get(k.label)!.get(c)!;
            const med = (f: (r: WrkResult) => number) => median(rs.map(f));
            const bad = rs.reduce((n, r) => n + r.non2xx, 0);
            const sock = rs.reduce((n, r) => n + r.socketErrors, 0);
            return [
              k.label,
              c,
              `${int(med((r) => r.rps))} [${int(Math.max(...rs.map((r) => r.rps)))}]`,
              rs.map((r) => r.latencyAvg).join(" "),
              int(bad),
              int(sock),
              `${med((r) => r.serverCores).toFixed(2)} cores`,
              `${med((r) => r.wrkCores).toFixed(2)} cores`,
              int(med((r) => r.perCpuSecond)),
            ];
          }),
        ),
      );
      const rows: string[][] = [];
      for (const flash of ["flash (binary)", "flash (bun cli.ts)"] as Contender[]) {
        for (const k of cases) {
          const r = results.get(k.label)!;
          const med = (c: Contender) => (r.has(c) ? median(r.get(c)!.map((x) => x.rps)) : Number.NaN);
          const best = (c: Contender) => (r.has(c) ? Math.max(...r.get(c)!.map((x) => x.rps)) : Number.NaN);
          for (const [how, f] of [
            ["median", med],
            ["best", best],
          ] as const) {
            const vsPeer = f(flash) / f("uvicorn peer");
            const vsRaw = f(flash) / f("raw Bun.serve");
            rows.push([
              flash,
              `req/s vs uvicorn, ${k.label} (${how})`,
              ratio(vsPeer),
              "≥ 5×",
              verdict(Number.isFinite(vsPeer) ? vsPeer >= 5 : undefined),
            ]);
            // Issue 12: ≥ 0.9× a bare Bun.serve at N examples (issue 2 asked ≥ 0.7×).
            const goal = k === cases[1] ? 0.9 : 0.7;
            rows.push([
              flash,
              `req/s vs raw Bun.serve, ${k.label} (${how})`,
              ratio(vsRaw),
              `≥ ${goal}×`,
              verdict(vsRaw >= goal),
            ]);
          }
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
      printTable(
        "`flash --help` wall time (10 runs)",
        ["command", "median", "min", "target", "verdict"],
        [
          row("./flash --help", await tenRuns([flashBin(), "--help"]), "≤ 50 ms", true),
          row("bun cli.ts --help", await tenRuns(["bun", "cli.ts", "--help"]), "(reference)", false),
        ],
      );
    }
  } finally {
    for (const c of cleanups) c();
  }
}

await main();
