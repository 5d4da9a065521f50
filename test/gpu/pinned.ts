import { remote, LiveServerless, GpuGroup } from "flash";

/** Two workers of one GPU config, one GPU each: each call reports what its worker process sees. */
export const gpuPair = new LiveServerless({
  name: "gpu_check_pair",
  gpus: [GpuGroup.ANY],
  gpuCount: 1,
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 30,
});

/** What a GPU worker sees: its pinning, the GPUs nvidia-smi shows it, and its pid. */
export const whereAmI = remote(gpuPair, async (holdMs: number) => {
  await Bun.sleep(holdMs); // keep the first worker busy so the second call needs a second worker
  const smi = Bun.which("nvidia-smi");
  const listed = smi ? Bun.spawnSync([smi, "-L"], { stdout: "pipe" }).stdout.toString().trim() : "nvidia-smi not found";
  return { pid: process.pid, CUDA_VISIBLE_DEVICES: process.env.CUDA_VISIBLE_DEVICES ?? null, nvidia_smi_L: listed };
});
