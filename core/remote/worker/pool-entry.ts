/**
 * The program of one pool worker, as a thread (Bun Worker) or a subprocess (`bun pool-entry.ts`, or
 * `flash __worker` in the compiled binary). It switches to worker mode, preloads the modules it was told
 * about, says "ready", then runs calls one at a time through the executor.
 */
import { execute, loadModule } from "./executor";
import { openPoolChannel } from "./channel";
import { enterWorkerMode } from "./registry";

let running = false;

/** Run this thread or process as a pool worker until the pool stops it (once; later calls do nothing). */
export async function runPoolWorker(): Promise<void> {
  if (running) return;
  running = true;
  process.env.FLASH_WORKER = "1";
  enterWorkerMode();
  const pool = openPoolChannel();
  pool.onMessage(async (msg) => {
    if (msg.type !== "call") return;
    const { seq, req } = msg;
    const label = req.executionType === "class" && req.methodName ? `${req.name}.${req.methodName}` : (req.name ?? "");
    const res = await pool.inCall(seq, label, () =>
      execute(req, { onOutput: (line) => pool.send({ type: "output", seq, line }) }),
    );
    pool.send({ type: "done", seq, res });
  });
  await shareFlashModules();
  await preload();
  pool.send({ type: "ready" });
}

/** Make `import … from "flash"` in the worker resolve to the copy this worker runs (one registry per worker). */
async function shareFlashModules(): Promise<void> {
  try {
    const { registerFlashModules } = await import("../../base/self-import");
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

// A thread runs this file as its entry; a subprocess may reach it through a shim that imports it, hence the variable.
if (!Bun.isMainThread || import.meta.main || process.env.FLASH_WORKER_PROCESS === "1") {
  delete process.env.FLASH_WORKER_PROCESS; // programs the function starts are not workers
  delete process.env.BUN_BE_BUN;
  await runPoolWorker();
}
