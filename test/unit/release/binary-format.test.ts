import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readBinaryInfo } from "../../../scripts/release/binary-format";
import { adHocSign } from "../../../scripts/release/macho-sign";

/** A minimal ELF 64 header with one PT_INTERP program header. */
function elf(machine: number, interp: string): Uint8Array {
  const bytes = new Uint8Array(256);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  v.setUint32(64, 3, true); // PT_INTERP
  v.setBigUint64(72, 160n, true); // p_offset
  v.setBigUint64(96, BigInt(interp.length + 1), true); // p_filesz
  bytes.set(new TextEncoder().encode(interp), 160);
  return bytes;
}

/** A minimal PE32+ image header. */
function pe(machine: number, subsystem: number): Uint8Array {
  const bytes = new Uint8Array(512);
  const v = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x5a]);
  v.setUint32(0x3c, 128, true);
  v.setUint32(128, 0x50450000);
  v.setUint16(132, machine, true);
  v.setUint16(152, 0x20b, true);
  v.setUint16(152 + 68, subsystem, true);
  return bytes;
}

/**
 * A Mach-O 64 executable of two 4 KiB pages (load commands: __TEXT, __LINKEDIT, LC_CODE_SIGNATURE) with an ad-hoc
 * SHA-256 code signature over them at the end of the file, as the linker lays it out.
 */
function machO(cpu: number): Uint8Array {
  const pages = 2;
  const codeLimit = pages * 4096;
  const cdOffset = 20;
  const hashOffset = 88;
  const sigSize = cdOffset + hashOffset + pages * 32;
  const bytes = new Uint8Array(codeLimit + sigSize);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, 0xfeedfacf, true);
  v.setUint32(4, cpu, true);
  v.setUint32(12, 2, true); // MH_EXECUTE
  v.setUint32(16, 3, true); // ncmds
  v.setUint32(20, 72 * 2 + 16, true);
  const segment = (at: number, name: string, fileoff: number, filesize: number) => {
    v.setUint32(at, 0x19, true); // LC_SEGMENT_64
    v.setUint32(at + 4, 72, true);
    bytes.set(new TextEncoder().encode(name), at + 8);
    v.setBigUint64(at + 32, BigInt(Math.ceil(filesize / 0x4000) * 0x4000), true); // vmsize
    v.setBigUint64(at + 40, BigInt(fileoff), true);
    v.setBigUint64(at + 48, BigInt(filesize), true);
  };
  segment(32, "__TEXT", 0, 4096);
  segment(104, "__LINKEDIT", 4096, codeLimit + sigSize - 4096);
  v.setUint32(176, 0x1d, true); // LC_CODE_SIGNATURE
  v.setUint32(180, 16, true);
  v.setUint32(184, codeLimit, true); // dataoff
  v.setUint32(188, sigSize, true);
  for (let i = 192; i < codeLimit; i++) bytes[i] = i % 251; // some code
  const sb = codeLimit;
  v.setUint32(sb, 0xfade0cc0);
  v.setUint32(sb + 4, sigSize);
  v.setUint32(sb + 8, 1);
  v.setUint32(sb + 12, 0); // CSSLOT_CODEDIRECTORY
  v.setUint32(sb + 16, cdOffset);
  const cd = sb + cdOffset;
  v.setUint32(cd, 0xfade0c02);
  v.setUint32(cd + 4, hashOffset + pages * 32);
  v.setUint32(cd + 8, 0x20400);
  v.setUint32(cd + 12, 0x2); // CS_ADHOC
  v.setUint32(cd + 16, hashOffset);
  v.setUint32(cd + 28, pages);
  v.setUint32(cd + 32, codeLimit);
  bytes[cd + 36] = 32;
  bytes[cd + 37] = 2; // SHA-256
  bytes[cd + 39] = 12; // 4096-byte pages
  for (let p = 0; p < pages; p++) {
    const hash = createHash("sha256")
      .update(bytes.subarray(p * 4096, (p + 1) * 4096))
      .digest();
    bytes.set(hash, cd + hashOffset + p * 32);
  }
  return bytes;
}

describe("readBinaryInfo", () => {
  test("ELF: machine and dynamic loader", () => {
    expect(readBinaryInfo(elf(183, "/lib/ld-linux-aarch64.so.1"))).toEqual({
      format: "elf",
      arch: "arm64",
      detail: "interpreter /lib/ld-linux-aarch64.so.1",
    });
    expect(readBinaryInfo(elf(62, "/lib64/ld-linux-x86-64.so.2")).arch).toBe("x64");
    expect(readBinaryInfo(elf(40, "/lib/ld-linux.so.3")).arch).toBe("other"); // 32-bit ARM machine number
  });

  test("PE32+: machine and console subsystem (a flash.exe that opens a console)", () => {
    expect(readBinaryInfo(pe(0x8664, 3))).toEqual({ format: "pe", arch: "x64", detail: "console subsystem" });
    expect(readBinaryInfo(pe(0xaa64, 2))).toEqual({ format: "pe", arch: "arm64", detail: "gui subsystem" });
  });

  test("Mach-O: CPU, and the code signature verified page by page", () => {
    const good = machO(0x0100000c);
    expect(readBinaryInfo(good)).toEqual({
      format: "mach-o",
      arch: "arm64",
      detail: "ad-hoc sha256 signature, 2 pages verified",
      signatureValid: true,
    });
    expect(readBinaryInfo(machO(0x01000007)).arch).toBe("x64");
    // A byte changed after signing (what appending data without re-signing does): the kernel would kill it.
    const tampered = machO(0x0100000c);
    tampered[5000]! ^= 0xff;
    const info = readBinaryInfo(tampered);
    expect(info.signatureValid).toBe(false);
    expect(info.detail).toContain("1 with wrong hashes");
  });

  test("rejects what is not a 64-bit executable", () => {
    expect(() => readBinaryInfo(new Uint8Array(100))).toThrow("unknown executable format");
    expect(() => readBinaryInfo(new Uint8Array(10))).toThrow("too short");
    const elf32 = elf(62, "/x");
    elf32[4] = 1;
    expect(() => readBinaryInfo(elf32)).toThrow("not 64-bit");
    const pe32 = pe(0x14c, 3);
    new DataView(pe32.buffer).setUint16(152, 0x10b, true);
    expect(() => readBinaryInfo(pe32)).toThrow("not PE32+");
  });
});

describe("adHocSign", () => {
  test("re-signs a binary whose code changed after signing, keeping the code and growing __LINKEDIT", () => {
    const stale = machO(0x01000007);
    stale[5000]! ^= 0xff; // what Bun's darwin-x64 cross-compile leaves: code that no longer matches its hashes
    expect(readBinaryInfo(stale).signatureValid).toBe(false);
    const signed = adHocSign(stale, "flash");
    expect(readBinaryInfo(signed)).toEqual({
      format: "mach-o",
      arch: "x64",
      detail: "ad-hoc sha256 signature, 2 pages verified",
      signatureValid: true,
    });
    const v = new DataView(signed.buffer);
    expect(signed.subarray(192, 8192)).toEqual(stale.subarray(192, 8192));
    expect(Number(v.getBigUint64(104 + 40, true) + v.getBigUint64(104 + 48, true))).toBe(signed.length);
    expect(v.getUint32(184, true) + v.getUint32(188, true)).toBe(signed.length);
    expect(new TextDecoder().decode(signed.subarray(8192 + 20 + 88, 8192 + 20 + 93))).toBe("flash");
  });

  test("refuses a layout it cannot re-sign in place", () => {
    const trailing = new Uint8Array(machO(0x0100000c).length + 10);
    trailing.set(machO(0x0100000c));
    expect(() => adHocSign(trailing, "flash")).toThrow("not at the end");
    expect(() => adHocSign(elf(62, "/x"), "flash")).toThrow("not a 64-bit Mach-O");
  });
});
