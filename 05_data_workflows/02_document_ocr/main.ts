import { Elysia, t, validationError } from "flash";
import { extractDocumentFields, readDocument } from "./stages";

// No file reads or model loads at import time: the OCR models load on a GPU worker's first call.

/**
 * Largest upload. The image travels to the OCR worker inside the job as base64 (4/3 of its size), and Runpod
 * caps a /run job's payload at 10 MB (20 MB for /runsync): 5 MB of image stays well under both.
 */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** PNG or JPEG by content (the first bytes), not by the name or the type the client claims. */
function imageKind(bytes: Uint8Array): "png" | "jpeg" | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return null;
}

const Amount = t.Object({ value: t.Number(), currency: t.Nullable(t.String()), line: t.String() });
const DocumentReply = t.Object({
  file: t.Object({ name: t.String(), type: t.String(), bytes: t.Integer() }),
  text: t.String({ description: "the OCR text, one line per text line" }),
  total: t.Nullable(Amount),
  total_source: t.Nullable(t.String({ description: '"total line", or "largest amount" when no line says total' })),
  subtotal: t.Nullable(Amount),
  tax: t.Nullable(Amount),
  amounts: t.Array(Amount),
  dates: t.Array(t.Object({ text: t.String(), iso: t.Nullable(t.String()), line: t.String() })),
  ocr: t.Object({ execution_provider: t.String(), lines: t.Integer(), ocr_ms: t.Number(), cold_start: t.Boolean() }),
  pipeline_ms: t.Number(),
});

/** POST /documents: upload a scanned receipt or invoice (multipart), get its text, total and dates. */
export const api_router = new Elysia().post(
  "/documents",
  async ({ body }) => {
    const started = performance.now();
    const file = body.file;
    const bytes = Buffer.from(await file.arrayBuffer());
    if (bytes.length > MAX_UPLOAD_BYTES) {
      const msg = `file must be at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB (${file.name || "the upload"} is ${bytes.length} bytes)`;
      return validationError([{ loc: ["body", "file"], msg, input: file.name }]) as never; // 422
    }
    if (!imageKind(bytes)) {
      const msg = `file must be a PNG or JPEG image (${file.name || "the upload"} is not one)`;
      return validationError([{ loc: ["body", "file"], msg, input: file.name }]) as never; // 422
    }
    const ocr = await readDocument(bytes.toString("base64")); // GPU stage
    const fields = await extractDocumentFields(ocr.text); // CPU stage
    return {
      file: { name: file.name, type: file.type, bytes: bytes.length },
      text: ocr.text,
      ...fields,
      ocr: {
        execution_provider: ocr.execution_provider,
        lines: ocr.lines.length,
        ocr_ms: ocr.ocr_ms,
        cold_start: ocr.cold_start,
      },
      pipeline_ms: Math.round(performance.now() - started),
    };
  },
  {
    body: t.Object({
      // Size and type are checked in the handler (by content), so the OpenAPI schema stays plain.
      file: t.File({
        description: "A PNG or JPEG of the document, at most 5 MB",
        error: `file must be a PNG or JPEG image of at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB (multipart field "file")`,
      }),
    }),
    response: { 200: DocumentReply },
    detail: {
      summary: "OCR a document (GPU), then extract its total and dates (CPU)",
      description:
        'Send the image as multipart/form-data in the field "file" (`curl -F file=@receipt.png`). ' +
        "A missing file, another type or a file over 5 MB is a 422; an image that cannot be decoded is a 400.",
    },
  },
);
