/** The artifact's tar writer and extractor, which files a package leaves out, and the cost table. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { foreignPlatformPath } from "../../../core/deploy/artifact";
import { formatCost, workerHourly } from "../../../core/deploy/cost";
import { extractTar, readTar, tarGz } from "../../../core/deploy/tar";

const tmp = mkdtempSync(join(tmpdir(), "flash-tar-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);

describe("tar", () => {
  test("same entries in any order give the same bytes; long paths and symlinks round-trip", () => {
    const long = `${"deep/".repeat(40)}file.ts`;
    const entries = [
      { path: "b.txt", type: "file" as const, data: enc("b") },
      { path: long, type: "file" as const, data: enc("long"), executable: true },
      { path: "a/link", type: "symlink" as const, target: "../b.txt" },
    ];
    const one = tarGz(entries);
    const two = tarGz([...entries].reverse());
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    const back = readTar(one);
    expect(back.map((e) => e.path)).toEqual(["a/link", "b.txt", long]);
    const dir = join(tmp, "x");
    expect(extractTar(one, dir)).toBe(3);
    expect(readFileSync(join(dir, long), "utf8")).toBe("long");
    expect(readlinkSync(join(dir, "a/link"))).toBe("../b.txt");
  });

  test("the extractor refuses entries and links that leave the target folder", () => {
    for (const bad of [
      [{ path: "../escape.txt", type: "file" as const, data: enc("x") }],
      [{ path: "/etc/x", type: "file" as const, data: enc("x") }],
      [{ path: "l", type: "symlink" as const, target: "../../outside" }],
      [
        { path: "l", type: "symlink" as const, target: "." },
        { path: "l/x", type: "file" as const, data: enc("x") },
      ],
    ]) {
      expect(() => extractTar(tarGz(bad), join(tmp, `bad-${Math.random()}`))).toThrow(/refusing/);
    }
  });

  test("other platforms' native binaries are left out of packages", () => {
    expect(foreignPlatformPath("bin/napi-v3/darwin/arm64/x.node")).toBe(true);
    expect(foreignPlatformPath("bin/napi-v3/win32/x64/x.node")).toBe(true);
    expect(foreignPlatformPath("bin/napi-v3/linux/arm64/x.node")).toBe(true);
    expect(foreignPlatformPath("bin/napi-v3/linux/x64/x.node")).toBe(false);
    expect(foreignPlatformPath("lib/index.js")).toBe(false);
  });
});

describe("cost", () => {
  test("GPU pools priced from Runpod's serverless table; CPU has no published price", () => {
    expect(formatCost(workerHourly({ gpuIds: "AMPERE_48", gpuCount: 1 }))).toBe("$1.22");
    expect(formatCost(workerHourly({ gpuIds: "AMPERE_16,ADA_80_PRO,-NVIDIA A40", gpuCount: 2 }))).toBe("$1.15–8.35");
    expect(workerHourly({ instanceIds: ["cpu3c-1-2"] })).toBeNull();
  });
});
