import { defineCommand } from "citty";
import { log } from "../base/log";

/** `flash __worker` (hidden): a subprocess worker of a local pool, started by the pool inside the compiled binary. */
export default defineCommand({
  meta: { name: "__worker", description: "Internal: run as a worker of a local pool", hidden: true },
  async run() {
    if (typeof process.send !== "function") {
      log.error(
        "flash __worker is started by flash's worker pool (it needs the pool's IPC channel); run `flash run` instead",
      );
      process.exit(2);
    }
    const { runPoolWorker } = await import("../remote/worker/pool-entry");
    await runPoolWorker();
  },
});
