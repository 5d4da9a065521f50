import { describe, expect, test } from "bun:test";
import { withSpinner } from "../../core/base/spinner";

/** A terminal-like stream that records what is drawn. */
function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (t: string) => writes.push(t) };
}

describe("spinner", () => {
  test("at a terminal: the reason and elapsed seconds, the new reason after update, cleared at the end", async () => {
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      const tty = terminal(true);
      const result = await withSpinner(
        "bun install",
        async (s) => {
          while (tty.writes.length < 2) await Bun.sleep(1);
          s.update("waiting for a worker");
          const seen = tty.writes.length;
          while (tty.writes.length < seen + 1) await Bun.sleep(1);
          return 42;
        },
        { stream: tty, intervalMs: 5 },
      );
      expect(result).toBe(42);
      expect(tty.writes[0]).toMatch(/^\r\x1b\[K⠋ bun install \(\d+\.\d+s\)$/);
      expect(tty.writes.some((w) => w.includes("waiting for a worker ("))).toBe(true);
      expect(tty.writes.at(-1)).toBe("\r\x1b[K");
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
  });

  test("into a pipe it draws nothing and still returns the work's result (and its errors)", async () => {
    const pipe = terminal(false);
    expect(await withSpinner("x", async () => "done", { stream: pipe, intervalMs: 1 })).toBe("done");
    await expect(
      withSpinner("x", async () => Promise.reject(new Error("boom")), { stream: pipe, intervalMs: 1 }),
    ).rejects.toThrow("boom");
    expect(pipe.writes).toEqual([]);
  });
});
