/** Test helpers: render text images with sharp from SVG, in the system's DejaVu fonts (package fonts-dejavu-core). */
import sharp from "sharp";

/** A line of text to draw: where (top-left of the text's baseline box) and how big. */
export interface DrawnLine {
  text: string;
  x: number;
  y: number;
  size?: number;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An SVG of dark text on a light background; `y` is the baseline. */
export function textSvg(
  width: number,
  height: number,
  lines: DrawnLine[],
  { background = "white", color = "black" } = {},
): string {
  const texts = lines
    .map(
      (l) =>
        `<text x="${l.x}" y="${l.y}" font-family="DejaVu Sans" font-size="${l.size ?? 32}" fill="${color}">${escapeXml(l.text)}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${background}"/>${texts}</svg>`;
}

/** Render text as a PNG. */
export function textPng(
  width: number,
  height: number,
  lines: DrawnLine[],
  colors?: { background?: string; color?: string },
): Promise<Buffer> {
  return sharp(Buffer.from(textSvg(width, height, lines, colors)))
    .png()
    .toBuffer();
}

/** Render text as a JPEG. */
export function textJpeg(width: number, height: number, lines: DrawnLine[]): Promise<Buffer> {
  return sharp(Buffer.from(textSvg(width, height, lines)))
    .jpeg({ quality: 90 })
    .toBuffer();
}
