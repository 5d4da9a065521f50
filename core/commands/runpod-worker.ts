import { defineCommand } from "citty";

/** `flash __runpod-worker` (hidden): the Runpod worker program, for the emulator and images built on the binary. */
export default defineCommand({
  meta: { name: "__runpod-worker", description: "Internal: run flash's Runpod worker program", hidden: true },
  async run({ rawArgs }) {
    // A deployed mothership serves core/dev/app: hand it over from the binary's own module graph.
    (globalThis as Record<symbol, unknown>)[Symbol.for("flash.deploy.devApp")] = () => import("../dev/app");
    const { runRunpodWorker } = await import("../../worker/main");
    await runRunpodWorker(rawArgs);
  },
});
