/** What several commands share: running `bun install` with the embedded bun, and stopping on Ctrl+C once. */
import { bunCommand } from "../base/binary";
import { log } from "../base/log";

/** Run `bun install` at `root` (the binary's embedded bun); logs the tail of its error output on failure. */
export async function bunInstall(root: string): Promise<boolean> {
  const { cmd, env } = bunCommand(["install"]);
  const proc = Bun.spawn(cmd, { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) log.error(`bun install failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ")}`);
  return code === 0;
}
