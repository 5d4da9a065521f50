import { defineCommand } from "citty";

/** `flash __runpod-worker` (hidden): the Runpod worker program, for the emulator and images built on the binary. */
export default defineCommand({
  meta: { name: "__runpod-worker", description: "Internal: run flash's Runpod worker program", hidden: true },
  async run({ rawArgs }) {
    const { runRunpodWorker } = await import("../../worker/main");
    await runRunpodWorker(rawArgs);
  },
});
