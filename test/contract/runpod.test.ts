// Against real Runpod, only when a key is set (never in CI: it costs money and needs the network).
import { describe, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerFlashModules } from "../../core/workspace/self-import";
import { createTarget } from "../../core/runpod/runpod-target";
import { FIXTURE_WS } from "../fixtures/runpod/harness";
import { describeTargetContract } from "./targets.case";

if (process.env.RUNPOD_API_KEY && process.env.FLASH_CONTRACT_RUNPOD === "1") {
  describeTargetContract(
    "runpod",
    async () => {
      registerFlashModules();
      const tmp = mkdtempSync(join(tmpdir(), "flash-contract-runpod-"));
      cpSync(FIXTURE_WS, join(tmp, "ws"), { recursive: true });
      const target = await createTarget("runpod", { root: join(tmp, "ws") });
      return {
        target,
        root: join(tmp, "ws"),
        async stop() {
          await target.shutdown();
          rmSync(tmp, { recursive: true, force: true });
        },
      };
    },
    600_000,
  );
} else {
  describe("the runpod target keeps the remote-call contract", () => {
    test.skip("needs RUNPOD_API_KEY and FLASH_CONTRACT_RUNPOD=1 (creates endpoints on your account)", () => {});
  });
}
