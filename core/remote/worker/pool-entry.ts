/**
 * The program of one pool worker, as a thread (Bun Worker) or a subprocess (`bun pool-entry.ts`, or
 * `flash __worker` in the compiled binary). It switches to worker mode, preloads the modules it was told
 * about, says "ready", then runs the calls it is sent through the executor (several at once when the config's
 * `maxConcurrency` lets the pool send them; the pool never sends more). Importing it starts nothing: it starts
 * when it is the entry of its thread or process (last lines), or when `runPoolWorker()` is called.
 */
import { execute, forgetImported, loadModule } from "./executor";
import { openPoolChannel, type PoolChannel } from "./channel";
import { purgeChanged } from "./hot-reload";
import { enterWorkerMode } from "./registry";
import { callLabel, type ToWorker } from "../protocol";

let running = false;

/** Streamed calls in flight, by seq: a cancel reaches them at once, not after the call (messages are otherwise in order). */
const streams = new Map<number, AbortController>();

/** Run this thread or process as a pool worker until the pool stops it (once; later calls do nothing). */
export async function runPoolWorker(): Promise<void> {
  if (running) return;
  running = true;
  delete process.env.BUN_BE_BUN; // programs the function starts are plain programs, not bun
  process.env.FLASH_WORKER = "1";
  enterWorkerMode();
  const pool = openPoolChannel();
  // In order: a call starts once the reload sent before it finished; a reload waits for the calls in flight.
  // Calls do not wait for each other (the pool sends a worker at most maxConcurrency of them).
  let turn: Promise<unknown> = (async () => {
    await shareFlashModules();
    await preload();
  })();
  const inFlight = new Set<Promise<void>>();
  pool.onMessage((msg) => {
    if (msg.type === "cancel") return streams.get(msg.seq)?.abort();
    // Registered on arrival, so a cancel that comes while the call still waits for its turn is not lost.
    if (msg.type === "call" && msg.req.stream) streams.set(msg.seq, new AbortController());
    if (msg.type !== "call") {
      turn = Promise.all([turn, ...inFlight]).then(() => handle(pool, msg));
      return;
    }
    const call: Promise<void> = turn.then(() => handle(pool, msg)).finally(() => inFlight.delete(call));
    inFlight.add(call);
  });
  await turn;
  pool.send({ type: "ready" });
}

async function handle(pool: PoolChannel, msg: ToWorker): Promise<void> {
  if (msg.type === "reload") {
    const started = performance.now();
    const { purged } = purgeChanged(msg.files);
    // Import the remote functions' modules again now, so the next call does not wait for it.
    for (const file of forgetImported(purged)) await loadModule(file).catch(() => undefined);
    pool.send({ type: "reloaded", modules: purged.length, ms: performance.now() - started });
    return;
  }
  if (msg.type !== "call") return;
  const { seq, req } = msg;
  const label = callLabel(req);
  const stop = streams.get(seq) ?? new AbortController();
  try {
    const res = await pool.inCall(seq, label, () =>
      execute(req, {
        onOutput: (line) => pool.send({ type: "output", seq, line }),
        onChunk: (chunk) => pool.send({ type: "chunk", seq, chunk }),
        signal: stop.signal,
      }),
    );
    pool.send({ type: "done", seq, res });
  } finally {
    streams.delete(seq);
  }
}

/** Make `import … from "flash"` in the worker resolve to the copy this worker runs (one registry per worker). */
async function shareFlashModules(): Promise<void> {
  try {
    // The one import of workspace/ from remote/: how "flash" resolves for the examples this worker imports.
    const { registerFlashModules } = await import("../../workspace/self-import");
    registerFlashModules();
  } catch {
    // Without the plugin, "flash" resolves through the workspace (tsconfig paths or .flash/runtime); the registry is shared via globalThis.
  }
}

async function preload(): Promise<void> {
  let modules: unknown = [];
  try {
    modules = JSON.parse(process.env.FLASH_PRELOAD ?? "[]");
  } catch {
    return; // a malformed list only costs the warm-up; calls import what they need
  }
  if (!Array.isArray(modules)) return;
  for (const file of modules) {
    // Import errors are reported by the call that needs the module, with its stack; here they only skip the warm-up.
    await loadModule(String(file)).catch(() => undefined);
  }
}

// The entry of a worker thread (where Bun.main names the thread's entry and import.meta.main is false) or of
// `bun pool-entry.ts`; `flash __worker` and `.flash/runtime/pool-entry.ts` import this file and call runPoolWorker().
if (import.meta.main || Bun.main === import.meta.path) await runPoolWorker();
