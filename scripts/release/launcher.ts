/**
 * The `flash` command of the npm package (`@flash-sh/cli`), as esbuild and Bun ship theirs: a tiny Node program
 * that finds the binary in the per-platform package npm installed (an optional dependency whose `os`/`cpu` match
 * this machine) and runs it with the same arguments, standard streams, signals and exit status.
 *
 * Node-compatible on purpose (node: modules only, no Bun APIs): `bun run release` bundles it for Node into the
 * main package's `bin/flash.js`. The decisions are pure functions of platform, arch and env, so they are tested for
 * every platform on any machine.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import {
  NPM_PACKAGE,
  RELEASE_URL,
  TARGETS,
  assetName,
  packageBinPath,
  platformPackage,
  targetById,
  targetFor,
} from "./targets";

/** Where the binary is, or why there is none. */
export type BinaryLookup = { binary: string } | { error: string };

/** Resolves an installed package's package.json to its path, or undefined when it is not installed. */
export type PackageResolver = (packageJson: string) => string | undefined;

/**
 * The binary to run for this platform: $FLASH_BINARY_PATH when set (a binary from the GitHub release, or one built
 * from source), else the one in the per-platform package.
 */
export function findBinary(
  platform: string,
  arch: string,
  env: Record<string, string | undefined>,
  resolve: PackageResolver,
): BinaryLookup {
  if (env.FLASH_BINARY_PATH) return { binary: env.FLASH_BINARY_PATH };
  const target = targetFor(platform, arch);
  if (!target) {
    const known = TARGETS.filter((t) => !t.baseline).map((t) => t.id);
    return { error: `flash has no binary for ${platform}-${arch} (it ships for ${known.join(", ")})` };
  }
  const pkg = platformPackage(target);
  const manifest = resolve(`${pkg}/package.json`);
  if (!manifest) {
    return {
      error:
        `the package ${pkg} is not installed: npm installs it with ${NPM_PACKAGE} as an optional dependency, ` +
        `unless optional dependencies were left out (--omit=optional, --no-optional); reinstall without that, ` +
        `or set FLASH_BINARY_PATH to a flash binary`,
    };
  }
  return { binary: join(dirname(manifest), packageBinPath(platform)) };
}

/**
 * Which signals the launcher catches, and whether it passes them on. On Linux and macOS a `kill` reaches only the
 * launcher, so it forwards SIGINT/SIGTERM/SIGHUP to the binary (flash run shuts down cleanly on those). On Windows
 * Ctrl+C and Ctrl+Break already reach every process on the console, the binary included, and Node can only emulate
 * a signal there by terminating the child: the launcher just outlives the event and waits for the binary.
 * (https://nodejs.org/api/process.html#signal-events, "Windows" notes)
 */
export function signalPlan(platform: string): { catch: NodeJS.Signals[]; forward: boolean } {
  if (platform === "win32") return { catch: ["SIGINT", "SIGBREAK"], forward: false };
  return { catch: ["SIGINT", "SIGTERM", "SIGHUP"], forward: true };
}

/** A hint for a binary that died of SIGILL on x64: the CPU lacks AVX2, and the baseline build runs there. */
export function illegalInstructionHint(platform: string, arch: string, signal: string | null): string | undefined {
  const target = targetFor(platform, arch);
  if (signal !== "SIGILL" || arch !== "x64" || !target) return undefined;
  const baseline = assetName(targetById(`${target.id}-baseline`));
  return `flash: this CPU lacks instructions the binary needs (AVX2); use the baseline build: ${RELEASE_URL}/${baseline}`;
}

/** Run the binary with this process's arguments; resolves to the exit code to leave with. */
export function launch(binary: string, args: string[], platform: string, arch: string): Promise<number> {
  return new Promise((done) => {
    const child = spawn(binary, args, { stdio: "inherit", windowsHide: false });
    const plan = signalPlan(platform);
    const handlers = plan.catch.map((signal) => {
      const handler = () => {
        if (plan.forward) child.kill(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const release = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.on("error", (err) => {
      release();
      process.stderr.write(`flash: could not start ${binary}: ${err.message}\n`);
      done(1);
    });
    child.on("exit", (code, signal) => {
      release();
      const hint = illegalInstructionHint(platform, arch, signal);
      if (hint) process.stderr.write(`${hint}\n`);
      if (signal && platform !== "win32") {
        // Die of the same signal, so a shell or supervisor sees what happened to the binary.
        process.kill(process.pid, signal);
        return;
      }
      done(code ?? 1);
    });
  });
}
