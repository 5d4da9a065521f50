/**
 * Image checks that need no image library: the format from the first bytes and the size from the header (PNG's IHDR
 * chunk, JPEG's start-of-frame segment). The routes run them in the server process, so a wrong or oversized image is
 * a 422 naming its field before any worker is asked; the worker runs them again for callers of the remote function.
 */

/** The largest side accepted, in pixels. The 2× output is at most 512×512; a CPU call stays well under a second. */
export const MAX_SIDE = 256;

/** The smallest side accepted, in pixels. */
export const MIN_SIDE = 8;

/** The largest encoded image accepted, in bytes (a 256×256 PNG is at most about 260 KB). */
export const MAX_IMAGE_BYTES = 1024 * 1024;

/** What a header says about an image. */
export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PNG: the IHDR chunk follows the signature; width and height are its first two 32-bit fields. */
function pngHeader(bytes: Uint8Array): ImageHeader | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { format: "png", width: view.getUint32(16), height: view.getUint32(20) };
}

/** JPEG: walk the segments to the first start-of-frame marker (C0–CF except C4 DHT, C8 JPG, CC DAC). */
function jpegHeader(bytes: Uint8Array): ImageHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return { format: "jpeg", width: 0, height: 0 }; // corrupt: no frame found
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { format: "jpeg", height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    i += 2 + view.getUint16(i + 2);
  }
  return { format: "jpeg", width: 0, height: 0 };
}

/**
 * Check an encoded image: a PNG or JPEG, at most MAX_IMAGE_BYTES, each side MIN_SIDE..MAX_SIDE. Returns its header,
 * or the reason it is refused (a sentence that starts with the field's role, "image …").
 */
export function checkImage(bytes: Uint8Array): ImageHeader | string {
  if (bytes.length === 0) return "image is empty";
  if (bytes.length > MAX_IMAGE_BYTES) return `image is ${bytes.length} bytes; at most ${MAX_IMAGE_BYTES}`;
  const header = pngHeader(bytes) ?? jpegHeader(bytes);
  if (!header) return "image is not a PNG or JPEG";
  const { width, height } = header;
  if (width === 0 || height === 0) return `image could not be read (a ${header.format} without a size)`;
  if (width > MAX_SIDE || height > MAX_SIDE) {
    return `image is ${width}×${height} pixels; at most ${MAX_SIDE}×${MAX_SIDE} (scale it down first)`;
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    return `image is ${width}×${height} pixels; at least ${MIN_SIDE}×${MIN_SIDE}`;
  }
  return header;
}

/** Decode base64 (with or without a `data:image/…;base64,` prefix); null when it is not base64. */
export function fromBase64(text: string): Buffer | null {
  const payload = text.trim().replace(/^data:image\/[a-z+.-]+;base64,/i, "");
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(payload)) return null;
  return Buffer.from(payload, "base64");
}
