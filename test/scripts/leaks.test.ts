/** scripts/test/leaks.ts, the check CI wraps the suite in: a process a command leaves running fails it. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { alive } from "../fixtures/remote/helpers";
import { REPO } from "../helpers/workspace";

const LEAKS = join(REPO, "scripts/test/leaks.ts");

async function check(...command: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, LEAKS, ...command], {
    env: { ...process.env, LEAK_CHECK_GRACE_MS: "200" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err };
}

test("a command that leaves nothing running keeps its exit code", async () => {
  expect(await check("true")).toMatchObject({ code: 0 });
  expect((await check("sh", "-c", "exit 3")).code).toBe(3);
});

test.skipIf(process.platform !== "linux")(
  "a process left running, orphaned or not, fails the run with its command line, and is killed",
  async () => {
    // `sleep 61` stays a child of the shell's background job; `sleep 62` is orphaned as its subshell exits.
    const r = await check("sh", "-c", "sleep 61 & (sleep 62 &); echo started");
    expect(r.code).toBe(1);
    expect(r.out).toContain("2 process(es) left running after the tests");
    const pids = [...r.out.matchAll(/^\s+(\d+)\s+sleep 6[12]$/gm)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  },
  20_000,
);
