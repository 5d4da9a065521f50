import { log } from "./log";

type Hook = () => unknown | Promise<unknown>;
const hooks: { name: string; run: Hook }[] = [];

/** Register work to do on shutdown (stop worker pools, delete dev endpoints…); hooks run in reverse order. */
export function onShutdown(name: string, run: Hook): () => void {
  const entry = { name, run };
  hooks.push(entry);
  return () => {
    const i = hooks.indexOf(entry);
    if (i >= 0) hooks.splice(i, 1);
  };
}

/** Run every shutdown hook once (latest first); returns how many failed. A failing hook never stops the others. */
export async function runShutdownHooks(): Promise<number> {
  let failed = 0;
  for (const { name, run } of hooks.splice(0).reverse()) {
    try {
      await run();
    } catch (err) {
      failed++;
      log.error(`shutdown step "${name}" failed: ${(err as Error)?.message ?? err}`);
    }
  }
  return failed;
}

const reloadHooks: { name: string; run: Hook }[] = [];

/** Register work to do after each hot reload (for instance: recycle workers that hold old code). */
export function onReload(name: string, run: Hook): () => void {
  const entry = { name, run };
  reloadHooks.push(entry);
  return () => {
    const i = reloadHooks.indexOf(entry);
    if (i >= 0) reloadHooks.splice(i, 1);
  };
}

/** Run every reload hook; a failing hook is logged and never stops the reload. */
export async function runReloadHooks(): Promise<void> {
  for (const { name, run } of [...reloadHooks]) {
    try {
      await run();
    } catch (err) {
      log.error(`reload step "${name}" failed: ${(err as Error)?.message ?? err}`);
    }
  }
}
