import { log } from "./log";

type Hook = () => unknown | Promise<unknown>;

/** A named list of hooks: `add` returns a remover; `run` runs them in order, logging (not throwing) failures. */
function hookList(what: string) {
  const hooks: { name: string; run: Hook }[] = [];
  return {
    add(name: string, run: Hook): () => void {
      const entry = { name, run };
      hooks.push(entry);
      return () => {
        const i = hooks.indexOf(entry);
        if (i >= 0) hooks.splice(i, 1);
      };
    },
    async run(list: { name: string; run: Hook }[] = [...hooks]): Promise<number> {
      let failed = 0;
      for (const { name, run } of list) {
        try {
          await run();
        } catch (err) {
          failed++;
          log.error(`${what} step "${name}" failed: ${(err as Error)?.message ?? err}`);
        }
      }
      return failed;
    },
    take(): { name: string; run: Hook }[] {
      return hooks.splice(0);
    },
  };
}

const shutdownHooks = hookList("shutdown");
const reloadHooks = hookList("reload");

/** Register work to do on shutdown (stop worker pools, delete dev endpoints…); hooks run in reverse order. */
export function onShutdown(name: string, run: Hook): () => void {
  return shutdownHooks.add(name, run);
}

/** Run every shutdown hook once (latest first); returns how many failed. A failing hook never stops the others. */
export async function runShutdownHooks(): Promise<number> {
  return shutdownHooks.run(shutdownHooks.take().reverse());
}

/** Register work to do after each hot reload (for instance: recycle workers that hold old code). */
export function onReload(name: string, run: Hook): () => void {
  return reloadHooks.add(name, run);
}

/** Run every reload hook; a failing hook is logged and never stops the reload. */
export async function runReloadHooks(): Promise<void> {
  await reloadHooks.run();
}
