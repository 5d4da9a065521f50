import { log } from "./log";

type Hook = () => unknown | Promise<unknown>;

const shutdownHooks: { name: string; run: Hook }[] = [];

/** Register work to do on shutdown (stop worker pools, delete dev endpoints…); hooks run in reverse order. */
export function onShutdown(name: string, run: Hook): () => void {
  const entry = { name, run };
  shutdownHooks.push(entry);
  return () => {
    const i = shutdownHooks.indexOf(entry);
    if (i >= 0) shutdownHooks.splice(i, 1);
  };
}

/** Run every shutdown hook once (latest first); returns how many failed. A failing hook never stops the others. */
export async function runShutdownHooks(): Promise<number> {
  let failed = 0;
  for (const { name, run } of shutdownHooks.splice(0).reverse()) {
    try {
      await run();
    } catch (err) {
      failed++;
      log.error(`shutdown step "${name}" failed: ${(err as Error)?.message ?? err}`);
    }
  }
  return failed;
}
