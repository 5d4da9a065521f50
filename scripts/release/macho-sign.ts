/**
 * Ad-hoc code signing of a Mach-O executable, without Apple's tools: what `codesign --sign - --force` does for a
 * binary with no certificate. Needed because Bun 1.4.5's cross-compile to darwin-x64 keeps the runtime's original
 * signature, whose page hashes no longer match the binary with flash inside it (oven-sh/bun#39837; the arm64 output
 * is re-signed by Bun itself, oven-sh/bun#39772), and macOS kills a binary whose signature does not match.
 *
 * The layout follows the linker's own ad-hoc signature (Go's cmd/internal/codesign, Apple's cs_blobs.h): a SuperBlob
 * holding one CodeDirectory (version 0x20400, SHA-256, 4 KiB pages) that hashes every page up to the signature, the
 * last one truncated. The signature stays where it was (the end of __LINKEDIT, the end of the file) and grows there.
 */
import { createHash } from "node:crypto";
import { readBinaryInfo } from "./binary-format";

const PAGE = 4096;
const CD_HEADER = 88; // CodeDirectory fields up to and including execSegFlags (version 0x20400)
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

interface Layout {
  signatureCmd: number;
  dataoff: number;
  linkedit: number;
  textFileoff: bigint;
  textFilesize: bigint;
}

function readLayout(view: DataView, bytes: Uint8Array): Layout {
  if (view.getUint32(0, true) !== 0xfeedfacf) throw new Error("not a 64-bit Mach-O");
  const ncmds = view.getUint32(16, true);
  let at = 32;
  let signatureCmd = 0;
  let linkedit = 0;
  let textFileoff = 0n;
  let textFilesize = 0n;
  for (let i = 0; i < ncmds; i++) {
    const cmd = view.getUint32(at, true);
    if (cmd === LC_CODE_SIGNATURE) signatureCmd = at;
    if (cmd === LC_SEGMENT_64) {
      const name = new TextDecoder().decode(bytes.subarray(at + 8, at + 24)).replace(/\0+$/, "");
      if (name === "__LINKEDIT") linkedit = at;
      if (name === "__TEXT") {
        textFileoff = view.getBigUint64(at + 40, true);
        textFilesize = view.getBigUint64(at + 48, true);
      }
    }
    at += view.getUint32(at + 4, true);
  }
  if (!signatureCmd || !linkedit) throw new Error("Mach-O without LC_CODE_SIGNATURE or __LINKEDIT: cannot re-sign");
  const dataoff = view.getUint32(signatureCmd + 8, true);
  const linkeditEnd = Number(view.getBigUint64(linkedit + 40, true) + view.getBigUint64(linkedit + 48, true));
  const signatureEnd = dataoff + view.getUint32(signatureCmd + 12, true);
  if (signatureEnd !== bytes.length || linkeditEnd !== bytes.length) {
    throw new Error("the code signature is not at the end of __LINKEDIT and of the file: cannot re-sign in place");
  }
  return { signatureCmd, dataoff, linkedit, textFileoff, textFilesize };
}

/** Return a copy of the executable with a fresh ad-hoc signature over all of its code (identifier e.g. "flash"). */
export function adHocSign(input: Uint8Array, identifier: string): Uint8Array {
  const inView = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const layout = readLayout(inView, input);
  const codeLimit = layout.dataoff;
  const nCodeSlots = Math.ceil(codeLimit / PAGE);
  const ident = new TextEncoder().encode(`${identifier}\0`);
  const hashOffset = CD_HEADER + ident.length;
  const cdLength = hashOffset + nCodeSlots * 32;
  const sigLength = 12 + 8 + cdLength; // SuperBlob header, one BlobIndex, the CodeDirectory
  const out = new Uint8Array(codeLimit + sigLength);
  out.set(input.subarray(0, codeLimit));
  const view = new DataView(out.buffer);

  // Load commands first: they lie in page 0, which is hashed below.
  view.setUint32(layout.signatureCmd + 12, sigLength, true);
  const linkeditFileoff = view.getBigUint64(layout.linkedit + 40, true);
  const linkeditSize = BigInt(out.length) - linkeditFileoff;
  view.setBigUint64(layout.linkedit + 48, linkeditSize, true); // filesize
  const vmPage = 0x4000n; // 16 KiB: the larger of the x64 and arm64 page sizes, valid for both
  const vmsize = view.getBigUint64(layout.linkedit + 32, true);
  if (linkeditSize > vmsize)
    view.setBigUint64(layout.linkedit + 32, ((linkeditSize + vmPage - 1n) / vmPage) * vmPage, true);

  const sb = codeLimit;
  view.setUint32(sb, 0xfade0cc0); // CSMAGIC_EMBEDDED_SIGNATURE (blobs are big-endian)
  view.setUint32(sb + 4, sigLength);
  view.setUint32(sb + 8, 1);
  view.setUint32(sb + 12, 0); // CSSLOT_CODEDIRECTORY
  view.setUint32(sb + 16, 20);
  const cd = sb + 20;
  view.setUint32(cd, 0xfade0c02); // CSMAGIC_CODEDIRECTORY
  view.setUint32(cd + 4, cdLength);
  view.setUint32(cd + 8, 0x20400);
  view.setUint32(cd + 12, 0x2); // CS_ADHOC
  view.setUint32(cd + 16, hashOffset);
  view.setUint32(cd + 20, CD_HEADER); // identOffset
  view.setUint32(cd + 24, 0); // nSpecialSlots
  view.setUint32(cd + 28, nCodeSlots);
  view.setUint32(cd + 32, codeLimit);
  view.setUint8(cd + 36, 32); // hashSize
  view.setUint8(cd + 37, 2); // CS_HASHTYPE_SHA256
  view.setUint8(cd + 39, 12); // log2(page size)
  view.setBigUint64(cd + 64, layout.textFileoff); // execSegBase
  view.setBigUint64(cd + 72, layout.textFilesize); // execSegLimit
  view.setBigUint64(cd + 80, 1n); // CS_EXECSEG_MAIN_BINARY
  out.set(ident, cd + CD_HEADER);
  for (let slot = 0; slot < nCodeSlots; slot++) {
    const page = out.subarray(slot * PAGE, Math.min((slot + 1) * PAGE, codeLimit));
    out.set(createHash("sha256").update(page).digest(), cd + hashOffset + slot * 32);
  }
  return out;
}

/**
 * Make sure a macOS binary's code signature matches it: re-sign it ad hoc when it does not. Returns whether it was
 * re-signed; throws if even the new signature does not verify.
 */
export async function ensureValidSignature(path: string, identifier: string): Promise<boolean> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  if (readBinaryInfo(bytes).signatureValid) return false;
  const signed = adHocSign(bytes, identifier);
  const info = readBinaryInfo(signed);
  if (!info.signatureValid) throw new Error(`re-signing ${path} failed: ${info.detail}`);
  await Bun.write(path, signed);
  return true;
}
