/**
 * Reading an executable's headers to tell what it is built for, without running it: ELF (Linux), Mach-O (macOS,
 * including a check of its ad-hoc code signature, without which Apple silicon kills the process on exec) and PE
 * (Windows). Only what a release check needs; formats per the ELF gABI, Apple's mach-o/loader.h and cs_blobs.h, and
 * Microsoft's PE format page (https://learn.microsoft.com/windows/win32/debug/pe-format).
 */
import { createHash } from "node:crypto";

/** What an executable's headers say. */
export interface BinaryInfo {
  format: "elf" | "mach-o" | "pe";
  arch: "x64" | "arm64" | "other";
  /** ELF: the dynamic loader (PT_INTERP); PE: the subsystem ("console" / "gui"); Mach-O: the code signature. */
  detail: string;
  /** Mach-O only: whether the embedded code signature's page hashes match the file. */
  signatureValid?: boolean;
}

const ELF_MACHINES: Record<number, BinaryInfo["arch"]> = { 62: "x64", 183: "arm64" };
const MACHO_CPUS: Record<number, BinaryInfo["arch"]> = { 0x01000007: "x64", 0x0100000c: "arm64" };
const PE_MACHINES: Record<number, BinaryInfo["arch"]> = { 0x8664: "x64", 0xaa64: "arm64" };

/** Identify an executable from its bytes; throws when it is none of ELF 64, Mach-O 64 or PE32+. */
export function readBinaryInfo(bytes: Uint8Array): BinaryInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64) throw new Error("too short to be an executable");
  if (view.getUint32(0) === 0x7f454c46) return readElf(bytes, view);
  if (view.getUint32(0, true) === 0xfeedfacf) return readMachO(bytes, view);
  if (view.getUint16(0) === 0x4d5a) return readPe(view);
  throw new Error(`unknown executable format (magic ${view.getUint32(0).toString(16)})`);
}

function readElf(bytes: Uint8Array, view: DataView): BinaryInfo {
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error("ELF but not 64-bit little-endian");
  const arch = ELF_MACHINES[view.getUint16(18, true)] ?? "other";
  const phoff = Number(view.getBigUint64(32, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  let interp = "static";
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph, true) !== 3) continue; // PT_INTERP
    const off = Number(view.getBigUint64(ph + 8, true));
    const size = Number(view.getBigUint64(ph + 32, true));
    interp = new TextDecoder().decode(bytes.subarray(off, off + size)).replace(/\0+$/, "");
  }
  return { format: "elf", arch, detail: `interpreter ${interp}` };
}

function readMachO(bytes: Uint8Array, view: DataView): BinaryInfo {
  const arch = MACHO_CPUS[view.getUint32(4, true)] ?? "other";
  if (view.getUint32(12, true) !== 2) throw new Error("Mach-O but not an executable (MH_EXECUTE)");
  const ncmds = view.getUint32(16, true);
  let at = 32; // sizeof(mach_header_64)
  for (let i = 0; i < ncmds; i++) {
    const cmd = view.getUint32(at, true);
    if (cmd === 0x1d) {
      // LC_CODE_SIGNATURE: linkedit_data_command { cmd, cmdsize, dataoff, datasize }
      const dataoff = view.getUint32(at + 8, true);
      return { format: "mach-o", arch, ...checkCodeSignature(bytes, view, dataoff) };
    }
    at += view.getUint32(at + 4, true);
  }
  return { format: "mach-o", arch, detail: "unsigned", signatureValid: false };
}

/**
 * Check the CodeDirectory of a Mach-O code signature (big-endian blobs, cs_blobs.h): every code page's hash must
 * match the file, which is what the kernel checks page by page when it maps the binary.
 */
function checkCodeSignature(
  bytes: Uint8Array,
  view: DataView,
  superBlob: number,
): { detail: string; signatureValid: boolean } {
  if (view.getUint32(superBlob) !== 0xfade0cc0) return { detail: "bad signature superblob", signatureValid: false };
  const count = view.getUint32(superBlob + 8);
  for (let i = 0; i < count; i++) {
    const type = view.getUint32(superBlob + 12 + i * 8);
    const cd = superBlob + view.getUint32(superBlob + 16 + i * 8);
    if (type !== 0 || view.getUint32(cd) !== 0xfade0c02) continue; // CSSLOT_CODEDIRECTORY, CSMAGIC_CODEDIRECTORY
    const flags = view.getUint32(cd + 12);
    const hashOffset = view.getUint32(cd + 16);
    const nCodeSlots = view.getUint32(cd + 28);
    const codeLimit = view.getUint32(cd + 32);
    const hashSize = view.getUint8(cd + 36);
    const hashType = view.getUint8(cd + 37);
    const pageSize = 2 ** view.getUint8(cd + 39);
    const algorithm = hashType === 2 ? "sha256" : hashType === 1 ? "sha1" : undefined;
    if (!algorithm) return { detail: `unknown hash type ${hashType}`, signatureValid: false };
    let bad = 0;
    for (let slot = 0; slot < nCodeSlots; slot++) {
      const page = bytes.subarray(slot * pageSize, Math.min((slot + 1) * pageSize, codeLimit));
      const want = bytes.subarray(cd + hashOffset + slot * hashSize, cd + hashOffset + (slot + 1) * hashSize);
      const got = createHash(algorithm).update(page).digest();
      if (Buffer.compare(got.subarray(0, hashSize), want) !== 0) bad++;
    }
    const kind = flags & 0x2 ? "ad-hoc" : "signed";
    const detail = `${kind} ${algorithm} signature, ${nCodeSlots} pages${bad ? `, ${bad} with wrong hashes` : " verified"}`;
    return { detail, signatureValid: bad === 0 && nCodeSlots * pageSize >= codeLimit };
  }
  return { detail: "signature without a code directory", signatureValid: false };
}

function readPe(view: DataView): BinaryInfo {
  const pe = view.getUint32(0x3c, true);
  if (view.getUint32(pe) !== 0x50450000) throw new Error("MZ header without a PE signature");
  const arch = PE_MACHINES[view.getUint16(pe + 4, true)] ?? "other";
  const optional = pe + 24;
  if (view.getUint16(optional, true) !== 0x20b) throw new Error("PE but not PE32+ (64-bit)");
  const subsystem = view.getUint16(optional + 68, true);
  const name = subsystem === 3 ? "console" : subsystem === 2 ? "gui" : `subsystem ${subsystem}`;
  return { format: "pe", arch, detail: `${name} subsystem` };
}
