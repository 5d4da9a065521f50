/** Facts about the running flash: the compiled binary or source, and how to run plain bun from either. */

/**
 * True when running as the compiled `flash` binary: its modules live in Bun's embedded file system
 * (`/$bunfs/` on POSIX, `B:\~BUN\` on Windows; see https://bun.sh/docs/bundler/executables).
 */
export function isCompiled(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || import.meta.path.includes("~BUN");
}

/** Command and environment that run this process as plain bun (the binary's embedded bun when compiled). */
export function bunCommand(args: string[]): { cmd: string[]; env: Record<string, string | undefined> } {
  return { cmd: [process.execPath, ...args], env: { ...process.env, BUN_BE_BUN: "1" } };
}
