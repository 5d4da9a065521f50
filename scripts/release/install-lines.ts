/**
 * The README's one-line installs, read back from the README and run against a release folder served over local
 * HTTP in place of the GitHub release, so the lines users copy are the lines that are tested.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELEASE_URL } from "./targets";

/** One install line of the README. */
export interface InstallLine {
  /** The comment above it: `Linux x64`, `macOS Apple silicon`, `Windows x64 (PowerShell)`. */
  platform: string;
  shell: "sh" | "powershell";
  /** The release asset it downloads. */
  asset: string;
  line: string;
}

/** Every install line in the README's sh and powershell code blocks that downloads from RELEASE_URL. */
export function installLines(readme: string): InstallLine[] {
  const lines: InstallLine[] = [];
  for (const block of readme.matchAll(/```(sh|powershell)\n([\s\S]*?)```/g)) {
    const shell = block[1] as InstallLine["shell"];
    let platform = "";
    for (const line of block[2]!.split("\n")) {
      if (line.startsWith("# ")) platform = line.slice(2).trim();
      if (!line.includes(RELEASE_URL)) continue;
      const asset = /\bf="?([\w.-]+)"?/.exec(line)?.[1];
      if (asset) lines.push({ platform, shell, asset, line });
    }
  }
  return lines;
}

/** Serve a folder's files by name (a stand-in for the GitHub release's download URL); `override` replaces some. */
export function serveRelease(
  dir: string,
  override: Record<string, Uint8Array<ArrayBuffer>> = {},
): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    port: 0,
    fetch(req) {
      const name = decodeURIComponent(new URL(req.url).pathname.slice(1));
      if (override[name]) return new Response(override[name]);
      const file = join(dir, name);
      if (name.includes("/") || name.includes("..") || !existsSync(file))
        return new Response("not found", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
}

/** What running one install line did. */
export interface InstallRun {
  code: number;
  output: string;
  /** The installed `~/.local/bin/flash`, if the line installed one (in a temp HOME, removed by `cleanup`). */
  installed?: string;
  cleanup: () => void;
}

/**
 * Run a POSIX install line with the release URL pointed at `baseUrl`, in a temp folder with a temp HOME. Async: the
 * server answering it may live in this very process.
 */
export async function runInstallLine(line: InstallLine, baseUrl: string): Promise<InstallRun> {
  if (line.shell !== "sh") throw new Error(`cannot run a ${line.shell} line here`);
  const home = mkdtempSync(join(tmpdir(), "flash-install-"));
  const proc = Bun.spawn(["bash", "-c", line.line.replaceAll(RELEASE_URL, baseUrl)], {
    cwd: home,
    env: { ...process.env, HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const installed = join(home, ".local", "bin", "flash");
  return {
    code,
    output: out + err,
    installed: existsSync(installed) ? installed : undefined,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
