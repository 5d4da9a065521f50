import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";

/** `flash upgrade`: replace this binary with the latest release's, verified against the release's SHA256SUMS. */
export default defineCommand({
  meta: { name: "upgrade", description: COMMANDS.upgrade },
  args: {
    from: { type: "string", description: "Release URL holding the assets and SHA256SUMS (env FLASH_RELEASE_URL)" },
    baseline: { type: "boolean", description: "The -baseline build (x64 CPUs without AVX2)", default: false },
  },
  async run({ args }) {
    const { isCompiled } = await import("../base/binary");
    const { DEFAULT_RELEASE_URL, platformAsset, upgradeBinary } = await import("../base/upgrade");
    // FLASH_UPGRADE_BINARY names the file to replace: tests and wrappers that run flash through another path.
    const binary = process.env.FLASH_UPGRADE_BINARY || (isCompiled() ? process.execPath : undefined);
    if (!binary) {
      log.error("flash runs from source here: update it with git pull (flash upgrade replaces an installed binary)");
      process.exit(1);
    }
    const baseUrl = args.from || process.env.FLASH_RELEASE_URL || DEFAULT_RELEASE_URL;
    const asset = platformAsset(args.baseline);
    try {
      const result = await upgradeBinary({ baseUrl, asset, binary });
      if (result.status === "current") log.success(`${binary} is already the release's ${asset}`);
      else
        log.success(`upgraded ${binary} to the release's ${asset} (sha256 ${result.sha256.slice(0, 12)}…, verified)`);
      process.exit(0);
    } catch (error) {
      log.error(`flash upgrade failed: ${(error as Error).message}`);
      process.exit(1);
    }
  },
});
