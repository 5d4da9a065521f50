/** Plain text tables for the deploy commands (aligned columns, the last one unpadded). */

/** Render `rows` under `head`, two spaces between columns, indented by two. */
export function renderTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : (c ?? "").padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()}`;
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
