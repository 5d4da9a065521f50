import { defineCommand } from "citty";

/** `flash __worker` (hidden): a subprocess worker of a local pool, started by the pool inside the compiled binary. */
export default defineCommand({
  meta: { name: "__worker", description: "Internal: run as a worker of a local pool", hidden: true },
  async run() {
    const { runWorker } = await import("./worker-entry");
    await runWorker();
  },
});
