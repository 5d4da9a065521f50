/** A GPU as listed by `nvidia-smi`. */
export interface GpuDevice {
  index: number;
  name: string;
  memoryMiB: number;
  uuid?: string;
}

/** GPU facts as the examples report them (`available: false` when there is no GPU). */
export interface GpuInfo {
  available: boolean;
  name: string | null;
  count: number;
  memory_gb: number;
  /** The GPU indices this process may use (from CUDA_VISIBLE_DEVICES), when set. */
  visible_devices: string | null;
}

/**
 * List the GPUs that `nvidia-smi` reports, or [] when it is missing or fails (no GPU, no driver).
 * `nvidia-smi` is looked up on PATH each time, so tests can put a fake one first.
 */
export function listGpus(): GpuDevice[] {
  const bin = Bun.which("nvidia-smi", { PATH: process.env.PATH ?? "" }); // Bun.which alone ignores later PATH changes
  if (!bin) return [];
  try {
    const out = Bun.spawnSync([bin, "--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader,nounits"], {
      stdout: "pipe",
      stderr: "ignore",
      timeout: 10_000,
    });
    if (out.exitCode !== 0) return [];
    return parseNvidiaSmi(out.stdout.toString());
  } catch {
    return []; // a broken driver install behaves as "no GPU"
  }
}

/** Parse `nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits` output. */
function parseNvidiaSmi(text: string): GpuDevice[] {
  const gpus: GpuDevice[] = [];
  for (const line of text.split("\n")) {
    const cols = line.split(",").map((c) => c.trim());
    if (cols.length < 3 || cols[0] === "" || !/^\d+$/.test(cols[0]!)) continue;
    gpus.push({ index: Number(cols[0]), name: cols[1]!, memoryMiB: Number(cols[2]) || 0, uuid: cols[3] || undefined });
  }
  return gpus;
}

/** The GPUs this process may use: those listed by nvidia-smi, narrowed by CUDA_VISIBLE_DEVICES when it is set. */
function visibleGpus(): GpuDevice[] {
  const all = listGpus();
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  if (visible === undefined) return all;
  const wanted = visible
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return all.filter((g) => wanted.includes(String(g.index)) || (g.uuid !== undefined && wanted.includes(g.uuid)));
}

/** GPU facts for this process, as `01_hello_world` reports them. */
export function gpuInfo(): GpuInfo {
  const gpus = visibleGpus();
  const first = gpus[0];
  return {
    available: gpus.length > 0,
    name: first?.name ?? null,
    count: gpus.length,
    memory_gb: first ? Math.round((first.memoryMiB / 1024) * 100) / 100 : 0,
    visible_devices: process.env.CUDA_VISIBLE_DEVICES ?? null,
  };
}
