/**
 * The images the emulator can run as Runpod would, without Docker: what each one's file system offers a start
 * command (its PATH and tools), its own env, working folder and default command. A container here is a process
 * group whose "/" is a per-container temp folder: flash's container-side code and start commands write every
 * absolute container path as `${FLASH_CONTAINER_ROOT}/path` (the variable is unset on Runpod, so the path is the
 * real one there; the emulator sets it to the container's folder). Images not modelled here get no container
 * unless `flash emulator --image img=cmd` maps them; any worker may still attach.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCompiled } from "../base/binary";

/** What the emulator knows of one image. */
export interface ImageModel {
  /** Short name for logs. */
  name: string;
  /** Programs on the image's PATH beyond a POSIX shell and coreutils (the host's copies stand in for them). */
  tools: readonly string[];
  /** The image's own env (Dockerfile `ENV`). */
  env: Readonly<Record<string, string>>;
  /** WORKDIR, a container path. */
  workdir: string;
  /**
   * ENTRYPOINT + CMD when the template has no start command, for `sh -c`, with container paths under
   * `$FLASH_CONTAINER_ROOT`; undefined: not modelled (no container starts).
   */
  defaultCommand?: string;
  /** The worker program at /opt/flash (images built from worker/Dockerfile.*). */
  workerProgram?: boolean;
}

/** What every modelled image has: a shell, coreutils, tar and gzip (Debian and Ubuntu base images). */
const BASE_TOOLS = [
  "sh",
  "bash",
  "env",
  "cat",
  "ls",
  "mkdir",
  "rm",
  "mv",
  "cp",
  "ln",
  "chmod",
  "touch",
  "sleep",
  "seq",
  "head",
  "tail",
  "tr",
  "wc",
  "grep",
  "sed",
  "id",
  "uname",
  "date",
  "dirname",
  "basename",
  "base64",
  "sha256sum",
  "tar",
  "gzip",
  "kill",
];

/**
 * `oven/bun`: Bun at /usr/local/bin/bun, ENTRYPOINT docker-entrypoint.sh (runs a command that is on PATH as is),
 * CMD bun, WORKDIR /home/bun/app, the transpiler cache off; Debian, so no curl or unzip
 * (oven-sh/bun dockerhub/debian/Dockerfile).
 */
const OVEN_BUN: ImageModel = {
  name: "oven/bun",
  tools: ["bun"],
  env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
  workdir: "/home/bun/app",
  defaultCommand: "bun",
};

/**
 * `runpod/pytorch`: Ubuntu with python3, curl, unzip and ca-certificates, no Bun (runpod/containers
 * official-templates/base/Dockerfile). Its CMD `/start.sh` starts ssh and Jupyter for pods: not modelled, so a
 * template on it with no start command gets no container.
 */
const PYTORCH_IMAGE: ImageModel = {
  name: "runpod/pytorch",
  tools: ["python3", "curl", "unzip"],
  env: {},
  workdir: "/",
};

/** Images built from worker/Dockerfile.{cpu,gpu}: oven/bun plus the bundled worker program, CMD runs it. */
const FLASH_WORKER: ImageModel = {
  ...OVEN_BUN,
  name: "flash-worker",
  workdir: "/opt/flash",
  // CMD ["bun", "--no-install", "/opt/flash/main.js"], its path under the container's root.
  defaultCommand: 'exec bun --no-install "$FLASH_CONTAINER_ROOT/opt/flash/main.js"',
  workerProgram: true,
};

/** The model of an image (`repo:tag`, with or without a registry), or undefined when the emulator has none. */
export function imageModel(imageName: string): ImageModel | undefined {
  const repo = imageName.replace(/:[^/:]+$/, "").replace(/^(docker\.io|registry-1\.docker\.io)\//, "");
  if (repo === "oven/bun" || repo === "library/oven/bun") return OVEN_BUN;
  if (repo === "runpod/pytorch") return PYTORCH_IMAGE;
  if (/(^|\/)flash-worker$/.test(repo)) return FLASH_WORKER;
  return undefined;
}

/** Where a host tool lives (python3 through its real interpreter, so a version-manager shim needs no setup). */
function hostTool(name: string): string | undefined {
  if (name === "bun") return process.execPath;
  const found = Bun.which(name);
  if (!found || name !== "python3") return found ?? undefined;
  const real = Bun.spawnSync([found, "-c", "import sys; print(sys.executable)"], { stdout: "pipe", stderr: "ignore" });
  return real.exitCode === 0 ? real.stdout.toString().trim() || found : found;
}

/**
 * A folder standing for an image's /usr/bin: links to the host's copies of the image's tools, and nothing else
 * (a tool the image lacks is not found, as in the container). Made once per image and folder.
 */
export function toolsDir(model: ImageModel, parent: string): string {
  const dir = join(parent, `tools-${model.name.replaceAll("/", "_")}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  mkdirSync(tmp, { recursive: true });
  const missing: string[] = [];
  for (const tool of [...BASE_TOOLS, ...model.tools]) {
    const at = hostTool(tool);
    if (!at) {
      if (model.tools.includes(tool)) missing.push(tool);
      continue;
    }
    symlinkSync(at, join(tmp, tool));
  }
  if (missing.length) {
    throw new Error(`this machine has no ${missing.join(", ")}, which image ${model.name} has: cannot emulate it`);
  }
  renameSync(tmp, dir);
  return dir;
}

/**
 * The env a container of `model` starts with, before the template's and the platform's: the image's PATH (its
 * /usr/local/bin inside the container's root, where an installer puts Bun, then the image's tools), its ENV, the
 * container's /tmp, and the two emulator-only variables: FLASH_CONTAINER_ROOT (the container's "/") and
 * FLASH_BUN_RELEASES_URL (Bun's release downloads, served by the emulator instead of GitHub). The compiled flash
 * binary is Bun only with BUN_BE_BUN=1.
 */
export function containerEnv(
  model: ImageModel,
  root: string,
  tools: string,
  bunReleasesUrl: string,
): Record<string, string> {
  const env: Record<string, string> = {
    ...model.env,
    PATH: `${join(root, "usr/local/bin")}:${tools}`,
    TMPDIR: join(root, "tmp"),
    FLASH_CONTAINER_ROOT: root,
    FLASH_BUN_RELEASES_URL: bunReleasesUrl,
  };
  if (isCompiled()) env.BUN_BE_BUN = "1";
  return env;
}

/** Make a container's root: the folders every image has, its WORKDIR, and what the image carries. */
export function makeRoot(model: ImageModel, root: string, files: Record<string, string> = {}): void {
  for (const dir of ["tmp", "root", "usr/local/bin", model.workdir.slice(1)])
    mkdirSync(join(root, dir), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** The release file the start command downloads (the x64 "baseline" build, which needs no AVX2). */
const BUN_RELEASE_ZIP = "bun-linux-x64-baseline";

/**
 * Bun's release download as GitHub serves it (`bun-v<version>/bun-linux-x64-baseline.zip` holding
 * `bun-linux-x64-baseline/bun`, and `SHASUMS256.txt`; oven-sh/bun dockerhub/debian/Dockerfile fetches and checks
 * both), for the running Bun's version only: the zip holds this very binary. Kept in the OS temp folder across runs
 * (about 100 MB), keyed by the binary's size and time.
 */
export async function bunRelease(tag: string, file: string): Promise<Response> {
  if (tag !== `bun-v${Bun.version}`) {
    return new Response(`Not Found: this emulator serves only bun-v${Bun.version}`, { status: 404 });
  }
  const zip = releaseZip();
  if (file === "SHASUMS256.txt") return new Response(`${await sha256(zip)}  ${BUN_RELEASE_ZIP}.zip\n`);
  if (file !== `${BUN_RELEASE_ZIP}.zip`) return new Response("Not Found", { status: 404 });
  return new Response(Bun.file(zip));
}

let zipSum: Promise<string> | undefined;
function sha256(file: string): Promise<string> {
  zipSum ??= (async () => {
    return new Bun.CryptoHasher("sha256").update(await Bun.file(file).bytes()).digest("hex");
  })();
  return zipSum;
}

function releaseZip(): string {
  const st = statSync(process.execPath);
  const file = join(
    tmpdir(),
    `flash-emulator-${BUN_RELEASE_ZIP}-${Bun.version}-${st.size}-${Math.round(st.mtimeMs)}.zip`,
  );
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, storedZip(`${BUN_RELEASE_ZIP}/bun`, readFileSync(process.execPath)));
  renameSync(tmp, file);
  return file;
}

/** A zip with one stored (uncompressed) entry, mode 755: what Python's zipfile and unzip read. */
function storedZip(name: string, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const crc = Bun.hash.crc32(data) >>> 0;
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint32(14, crc, true);
  local.setUint32(18, data.length, true);
  local.setUint32(22, data.length, true);
  local.setUint16(26, nameBytes.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, (3 << 8) | 20, true); // made by Unix: the external attributes carry the file mode
  central.setUint16(6, 20, true);
  central.setUint32(16, crc, true);
  central.setUint32(20, data.length, true);
  central.setUint32(24, data.length, true);
  central.setUint16(28, nameBytes.length, true);
  central.setUint32(38, (0o100755 << 16) >>> 0, true);
  const cdOffset = 30 + nameBytes.length + data.length;
  const cdSize = 46 + nameBytes.length;
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, cdOffset, true);
  const out = new Uint8Array(cdOffset + cdSize + 22);
  let at = 0;
  for (const part of [
    new Uint8Array(local.buffer),
    nameBytes,
    data,
    new Uint8Array(central.buffer),
    nameBytes,
    new Uint8Array(end.buffer),
  ]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
