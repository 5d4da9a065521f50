import { defineCommand } from "citty";
import { APP_LOADER } from "../../worker/mothership";

/** `flash __runpod-worker` (hidden): the Runpod worker program, for the emulator and images built on the binary. */
export default defineCommand({
  meta: { name: "__runpod-worker", description: "Internal: run flash's Runpod worker program", hidden: true },
  async run({ rawArgs }) {
    // A deployed mothership serves core/app/app.ts: hand it over from the binary's own module graph.
    (globalThis as Record<symbol, unknown>)[APP_LOADER] = () => import("../app/app");
    const { runRunpodWorker } = await import("../../worker/main");
    await runRunpodWorker(rawArgs);
  },
});
