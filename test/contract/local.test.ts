import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerFlashModules } from "../../core/workspace/self-import";
import { LocalTarget } from "../../core/remote/local/local-target";
import { FIXTURE_WS } from "../fixtures/runpod/harness";
import { describeTargetContract } from "./targets.case";

describeTargetContract("local", async () => {
  registerFlashModules();
  const tmp = mkdtempSync(join(tmpdir(), "flash-contract-local-"));
  cpSync(FIXTURE_WS, join(tmp, "ws"), { recursive: true });
  const target = new LocalTarget();
  return {
    target,
    root: join(tmp, "ws"),
    async stop() {
      await target.shutdown();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
});
