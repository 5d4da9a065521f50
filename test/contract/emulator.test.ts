import { startHarness } from "../fixtures/runpod/harness";
import { describeTargetContract } from "./targets.case";

describeTargetContract("emulator", async () => {
  const h = startHarness();
  return { target: h.target, root: h.root, stop: () => h.stop() };
});
