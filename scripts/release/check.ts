#!/usr/bin/env bun
/**
 * `bun run release:check`: check what `bun run release` wrote, for every platform.
 *
 * - each binary: listed in SHA256SUMS with the right hash; its headers say the right format and CPU (ELF / Mach-O
 *   with a valid code signature / PE console, x64 or arm64); the commit is stamped in it;
 * - runs every binary this machine can run: natively (linux-x64 and its baseline build on an x64 host) or under
 *   qemu-user (linux-arm64: `apt-get install qemu-user libc6-arm64-cross`): `--version`, `--help`, and `flash run`
 *   serving /health for a workspace;
 * - each npm tarball: the platform package's os/cpu and binary (same hash as the release asset), the main package's
 *   optionalDependencies; then installs the host's tarballs offline (`npm install -g --prefix`) and runs the smoke
 *   test through the npm launcher.
 *
 * Prints a table and exits 1 when any check fails. Not part of `bun test` (it needs every platform's build).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readBinaryInfo } from "./binary-format";
import { parseChecksums, sha256File } from "./checksums";
import { installLines, runInstallLine, serveRelease } from "./install-lines";
import { NPM_TARGETS, npmInstallOffline, tarballName } from "./npm-packages";
import { smoke } from "./smoke";
import {
  NPM_PACKAGE,
  type ReleaseTarget,
  TARGETS,
  assetName,
  packageBinPath,
  platformPackage,
  targetFor,
} from "./targets";

const EXPECTED_FORMAT = { linux: "elf", darwin: "mach-o", win32: "pe" } as const;
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu"; // Debian's libc6-arm64-cross

interface Row {
  name: string;
  size: string;
  headers: string;
  run: string;
  ok: boolean;
}

/** The command that runs this target's binary here, or why it cannot run here. */
function runner(t: ReleaseTarget, binary: string): { command: string[] } | { skip: string } {
  if (t.os !== process.platform) return { skip: `not run (${t.os} binary on ${process.platform})` };
  if (t.cpu === process.arch) return { command: [binary] };
  if (t.os === "linux" && t.cpu === "arm64") {
    const qemu = ["qemu-aarch64", "qemu-aarch64-static"].map((q) => Bun.which(q)).find(Boolean);
    if (!qemu) return { skip: "not run: no qemu-aarch64 (apt-get install qemu-user libc6-arm64-cross)" };
    if (!existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1")))
      return { skip: `not run: no ${ARM64_SYSROOT} (apt-get install libc6-arm64-cross)` };
    return { command: [qemu, "-L", ARM64_SYSROOT, binary] };
  }
  return { skip: `not run (${t.cpu} binary on ${process.arch})` };
}

function describeSmoke(r: Awaited<ReturnType<typeof smoke>>, commit: string): { text: string; ok: boolean } {
  const names = (r.health.examples ?? []).map((e) => `${e.category}/${e.name}`);
  const ok =
    r.version.includes(`commit ${commit}`) &&
    r.helpOk &&
    r.health.status === "healthy" &&
    names.join() === "01_smoke/01_hello" &&
    (r.health.errors ?? []).length === 0 &&
    JSON.stringify(r.hello) === JSON.stringify({ hello: "from the release" }) &&
    r.exitCode === 0;
  const text = `/health ${r.health.status ?? "?"} in ${(r.startMs / 1000).toFixed(1)} s, exit ${r.exitCode}; ${r.version}`;
  return { text, ok };
}

function tarList(tarball: string): string[] {
  return Bun.spawnSync(["tar", "tzf", tarball]).stdout.toString().trim().split("\n");
}

function tarRead(tarball: string, member: string): Buffer {
  const res = Bun.spawnSync(["tar", "xzf", tarball, "-O", member], { stderr: "pipe" });
  if (res.exitCode !== 0) throw new Error(`${tarball} has no ${member}`);
  return res.stdout;
}

async function main(): Promise<number> {
  const started = performance.now();
  const { values } = parseArgs({ args: process.argv.slice(2), options: { dir: { type: "string" } } });
  const dir = resolve(values.dir ?? join(import.meta.dir, "..", "..", "dist", "release"));
  const sums = parseChecksums(readFileSync(join(dir, "SHA256SUMS"), "utf8"));
  const rows: Row[] = [];
  const host = targetFor(process.platform, process.arch);
  const hostBinary = host && join(dir, assetName(host));
  // The commit every binary must carry: what the host binary reports (it was stamped by the same release run).
  const commit = hostBinary
    ? (/commit (\S+?),/.exec(Bun.spawnSync([hostBinary, "--version"]).stdout.toString())?.[1] ?? "")
    : "";

  for (const t of TARGETS) {
    const name = assetName(t);
    const path = join(dir, name);
    if (!existsSync(path)) {
      rows.push({ name, size: "-", headers: "missing", run: "-", ok: false });
      continue;
    }
    const bytes = readFileSync(path);
    const problems: string[] = [];
    if (sums.get(name) !== sha256File(path)) problems.push("SHA256SUMS mismatch");
    const info = readBinaryInfo(bytes);
    if (info.format !== EXPECTED_FORMAT[t.os]) problems.push(`format ${info.format}`);
    if (info.arch !== t.cpu) problems.push(`arch ${info.arch}`);
    if (t.os === "darwin" && !info.signatureValid) problems.push("invalid code signature");
    if (t.os === "win32" && !info.detail.startsWith("console")) problems.push(info.detail);
    if (commit && !bytes.includes(Buffer.from(`"${commit}"`))) problems.push(`commit ${commit} not stamped`);
    const headers = `${info.format} ${info.arch}, ${info.detail}${problems.length ? ` — ${problems.join("; ")}` : ""}`;
    const how = runner(t, path);
    let run = "skip" in how ? how.skip : "";
    let runOk = true;
    if ("command" in how) {
      try {
        const r = describeSmoke(await smoke(how.command, {}, 120_000), commit);
        run = `${how.command.length > 1 ? "qemu: " : ""}${r.text}`;
        runOk = r.ok;
      } catch (err) {
        run = `FAILED: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
        runOk = false;
      }
    }
    const size = `${(bytes.length / 1e6).toFixed(1)} MB`;
    rows.push({ name, size, headers, run, ok: problems.length === 0 && runOk });
  }

  const npmDir = join(dir, "npm");
  const version: string = JSON.parse(readFileSync(join(import.meta.dir, "..", "..", "package.json"), "utf8")).version;
  const hostTarballs: string[] = [];
  for (const t of NPM_TARGETS) {
    const tarball = join(npmDir, tarballName(platformPackage(t), version));
    const name = `npm ${platformPackage(t)}`;
    if (!existsSync(tarball)) {
      rows.push({ name, size: "-", headers: "missing", run: "-", ok: false });
      continue;
    }
    const manifest = JSON.parse(tarRead(tarball, "package/package.json").toString());
    const binary = tarRead(tarball, `package/${packageBinPath(t.os)}`);
    const problems: string[] = [];
    if (JSON.stringify(manifest.os) !== JSON.stringify([t.os])) problems.push(`os ${manifest.os}`);
    if (JSON.stringify(manifest.cpu) !== JSON.stringify([t.cpu])) problems.push(`cpu ${manifest.cpu}`);
    const want = sums.get(assetName(t));
    if (new Bun.CryptoHasher("sha256").update(binary).digest("hex") !== want)
      problems.push("binary differs from asset");
    if (t === host) hostTarballs.push(tarball);
    const size = `${(statSync(tarball).size / 1e6).toFixed(1)} MB tgz`;
    const headers = `os ${manifest.os} cpu ${manifest.cpu}, ${packageBinPath(t.os)} = ${assetName(t)}${problems.length ? ` — ${problems.join("; ")}` : ""}`;
    rows.push({ name, size, headers, run: "", ok: problems.length === 0 });
  }
  const mainTarball = join(npmDir, tarballName(NPM_PACKAGE, version));
  if (!existsSync(mainTarball))
    rows.push({ name: `npm ${NPM_PACKAGE}`, size: "-", headers: "missing", run: "-", ok: false });
  else {
    const tarball = mainTarball;
    const manifest = JSON.parse(tarRead(tarball, "package/package.json").toString());
    const deps = Object.keys(manifest.optionalDependencies ?? {});
    const wantDeps = NPM_TARGETS.map(platformPackage);
    const problems = deps.join() === wantDeps.join() ? [] : [`optionalDependencies ${deps.join(", ")}`];
    if (!tarList(tarball).includes("package/bin/flash.js")) problems.push("no bin/flash.js");
    let run = "not run (no host tarball)";
    let runOk = hostTarballs.length > 0;
    if (hostTarballs.length) {
      const prefix = mkdtempSync(join(tmpdir(), "flash-npm-prefix-"));
      try {
        const flash = await npmInstallOffline([...hostTarballs, tarball], prefix);
        const r = describeSmoke(await smoke([flash]), commit);
        run = `npm install -g (offline) + launcher: ${r.text}`;
        runOk = r.ok;
      } catch (err) {
        run = `FAILED: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
        runOk = false;
      } finally {
        rmSync(prefix, { recursive: true, force: true });
      }
    }
    const headers = `bin flash → bin/flash.js, optionalDependencies: ${deps.length}${problems.length ? ` — ${problems.join("; ")}` : ""}`;
    rows.push({
      name: `npm ${NPM_PACKAGE}`,
      size: `${(statSync(tarball).size / 1e3).toFixed(1)} kB tgz`,
      headers,
      run,
      ok: problems.length === 0 && runOk,
    });
  }

  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const lines = installLines(readme);
  const server = serveRelease(dir);
  try {
    for (const t of TARGETS.filter((t) => !t.baseline)) {
      const line = lines.find((l) => l.asset === assetName(t));
      const name = `README ${line?.platform ?? t.id}`;
      if (!line) {
        rows.push({ name, size: "-", headers: `no install line for ${assetName(t)}`, run: "-", ok: false });
        continue;
      }
      if (line.shell !== "sh") {
        rows.push({
          name,
          size: "",
          headers: `${line.shell} line for ${line.asset}`,
          run: "not run (no PowerShell here)",
          ok: true,
        });
        continue;
      }
      const run = await runInstallLine(line, server.url.href.replace(/\/$/, ""));
      try {
        const ok = run.code === 0 && !!run.installed && sha256File(run.installed) === sums.get(line.asset);
        const how = ok
          ? `installed ~/.local/bin/flash = ${line.asset}, checksum verified`
          : `FAILED (exit ${run.code}): ${run.output.trim()}`;
        rows.push({ name, size: "", headers: how, run: "", ok });
      } finally {
        run.cleanup();
      }
    }
  } finally {
    server.stop(true);
  }

  const width = Math.max(...rows.map((r) => r.name.length));
  const table = rows.map(
    (r) =>
      `${r.ok ? "ok  " : "FAIL"}  ${r.name.padEnd(width)}  ${r.size.padStart(12)}  ${r.headers}${r.run ? `\n      ${"".padEnd(width)}  ${"".padStart(12)}  ${r.run}` : ""}`,
  );
  const failed = rows.filter((r) => !r.ok).length;
  process.stdout.write(
    `${table.join("\n")}\n\n${rows.length - failed}/${rows.length} ok, commit ${commit || "?"}, checked in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return failed ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
