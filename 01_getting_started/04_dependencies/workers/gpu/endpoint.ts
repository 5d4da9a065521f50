import { GpuGroup, LiveServerless, gpuInfo, logger, remote } from "flash";
import { versionsOf } from "../../versions";

/** GPU endpoint whose workers get npm packages installed for them. */
export const mlConfig = new LiveServerless({
  name: "01_04_gpu_ml",
  gpus: [GpuGroup.ADA_32_PRO],
  workersMin: 0,
  workersMax: 2,
});

/** GPU endpoint whose workers get system (apt) packages installed for them. */
export const systemConfig = new LiveServerless({
  name: "01_04_gpu_system",
  gpus: [GpuGroup.AMPERE_16],
  workersMin: 0,
  workersMax: 2,
});

/** The npm packages the ML function is given, pinned: the worker installs exactly these. */
export const ML_DEPENDENCIES = ["ml-matrix@6.15.1"];

/** The apt packages the system function is given. */
export const SYSTEM_DEPENDENCIES = ["ffmpeg"];

/** A deterministic 100×100 matrix product with ml-matrix: the sum of all entries of A·Aᵀ, A[i][j] = sin(i + j). */
export async function matrixChecksum(size = 100): Promise<number> {
  // Imported on first use: only workers multiply matrices, so the app server never loads ml-matrix (~16 ms).
  const { Matrix } = await import("ml-matrix");
  const a = Matrix.from1DArray(
    size,
    size,
    Array.from({ length: size * size }, (_, k) => Math.sin(Math.floor(k / size) + (k % size))),
  );
  return Math.round(a.mmul(a.transpose()).sum() * 1e4) / 1e4;
}

/** The first line of `ffmpeg -version`, or null when ffmpeg is not on PATH (the search PATH can be given). */
export function ffmpegVersion(path: string | undefined = process.env.PATH): string | null {
  const bin = Bun.which("ffmpeg", { PATH: path ?? "" });
  if (!bin) return null;
  const out = Bun.spawnSync([bin, "-version"], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
  if (out.exitCode !== 0)
    throw new Error(
      `ffmpeg -version exited with ${out.exitCode}: ${out.stderr.toString().trim().split("\n")[0] ?? ""}`,
    );
  return out.stdout.toString().split("\n")[0]?.trim() ?? "";
}

/** Report the versions of the npm packages this function was given, and use one of them (a matrix product). */
export const processWithMlLibs = remote(
  mlConfig,
  async () => {
    const gpu = gpuInfo();
    return {
      status: "success" as const,
      message: "ML dependencies loaded successfully",
      dependencies: ML_DEPENDENCIES,
      versions: versionsOf(ML_DEPENDENCIES),
      matrix_test: { operation: "sum of A·Aᵀ, A = 100×100, A[i][j] = sin(i + j)", result: await matrixChecksum() },
      gpu: gpu.available ? gpu.name : "No GPU available",
      timestamp: new Date().toISOString(),
    };
  },
  { dependencies: ML_DEPENDENCIES },
);

/** Report the system package this function was given: `ffmpeg -version`, or a clear "not installed". */
export const processWithSystemDeps = remote(
  systemConfig,
  async () => {
    const version = ffmpegVersion();
    return {
      // Never "success" without the package: callers (and monitors) read `status`, not the message.
      status: version ? ("success" as const) : ("missing" as const),
      message: version ? "System dependencies available" : "System dependency missing: ffmpeg",
      system_dependencies: SYSTEM_DEPENDENCIES,
      ffmpeg_available: version !== null,
      ffmpeg_version:
        version ??
        "not installed (ffmpeg is not on PATH; on a worker it comes from systemDependencies, locally: apt-get install ffmpeg)",
      timestamp: new Date().toISOString(),
    };
  },
  { systemDependencies: SYSTEM_DEPENDENCIES },
);

if (import.meta.main) {
  // `bun workers/gpu/endpoint.ts` runs both GPU functions once through their workers.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    const log = logger("04_dependencies");
    log.log(JSON.stringify(await processWithMlLibs(), null, 2));
    log.log(JSON.stringify(await processWithSystemDeps(), null, 2));
    process.exit(0);
  }, 0);
}
