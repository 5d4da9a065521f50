import { describe, expect, test } from "bun:test";
import { formatBytes } from "../../core/base/bytes";
import { renderTable } from "../../core/deploy/table";

describe("one table renderer and one byte formatter", () => {
  test("columns line up by display width: wide characters and a long type do not shift a row", () => {
    const head = ["RESOURCE", "TYPE", "FUNCTIONS", "SOURCES"];
    const rows = [
      ["01_01_gpu", "LiveServerless", "1", "2.1 KiB"],
      ["demo-mothership", "CpuLiveLoadBalancer (app)", "12", "188.4 KiB"],
      ["画像_cpu", "CpuLiveServerless", "3", "1 B"],
    ];
    const lines = renderTable(head, rows, [2]).trimEnd().split("\n");
    const last = [head, ...rows].map((r) => r[3]!);
    // Every row's SOURCES column starts at the same terminal column, and FUNCTIONS (right-aligned) ends two before.
    const starts = lines.map((l, i) => Bun.stringWidth(l) - Bun.stringWidth(last[i]!));
    expect(new Set(starts).size).toBe(1);
    expect(
      lines.map((l, i) =>
        l
          .slice(0, l.length - last[i]!.length)
          .trimEnd()
          .at(-1),
      ),
    ).toEqual(["S", "1", "2", "3"]);
  });

  test("bytes in binary units, labelled as such", () => {
    expect([0, 512, 1024, 192_922, 1_610_612_736].map(formatBytes)).toEqual([
      "0 B",
      "512 B",
      "1.0 KiB",
      "188.4 KiB",
      "1.5 GiB",
    ]);
  });
});
