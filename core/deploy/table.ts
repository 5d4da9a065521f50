/** Plain text tables for the commands (aligned columns, the last one unpadded), the one renderer flash has. */

/** `text` padded with spaces to `width` terminal columns (wide characters, such as CJK and emoji, count as two). */
function padDisplay(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - Bun.stringWidth(text)));
}

/**
 * Render `rows` under `head`, two spaces between columns, indented by two. Columns are measured by display width
 * (`Bun.stringWidth`), so a row with wide characters stays aligned. `right` lists the columns aligned right (numbers).
 */
export function renderTable(head: string[], rows: string[][], right: number[] = []): string {
  const widths = head.map((h, i) => Math.max(Bun.stringWidth(h), ...rows.map((r) => Bun.stringWidth(r[i] ?? ""))));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c = "", i) => {
        if (right.includes(i)) return " ".repeat(Math.max(0, widths[i]! - Bun.stringWidth(c))) + c;
        return i === cells.length - 1 ? c : padDisplay(c, widths[i]!);
      })
      .join("  ")
      .trimEnd()}`;
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
