import { listGpus, type GpuDevice } from "../../base/gpu";

/**
 * Hands out GPUs to GPU workers round robin, `gpuCount` at a time, as `CUDA_VISIBLE_DEVICES` values.
 * The GPU list is read from `nvidia-smi` once, when the allocator is made.
 */
export class GpuAllocator {
  readonly gpus: GpuDevice[];
  private next = 0;

  constructor(gpus: GpuDevice[] = listGpus()) {
    this.gpus = gpus;
  }

  /** True when there is at least one GPU. */
  get available(): boolean {
    return this.gpus.length > 0;
  }

  /** The `CUDA_VISIBLE_DEVICES` value for the next worker (`"0"`, `"1,2"`…), or null with no GPU. */
  assign(gpuCount: number): string | null {
    const n = this.gpus.length;
    if (n === 0) return null;
    const take = Math.min(Math.max(1, gpuCount), n);
    const picked: number[] = [];
    for (let i = 0; i < take; i++) picked.push(this.gpus[(this.next + i) % n]!.index);
    this.next = (this.next + take) % n;
    return picked.sort((a, b) => a - b).join(",");
  }
}
