/**
 * What the emulated platform knows about hardware: GPU pools and models, CPU instance ids, CUDA versions and
 * data-center id shapes. Kept apart from the client's enums on purpose: the emulator checks what a client sends,
 * so it must not share the client's mistakes.
 *
 * Sources: runpod/flash@757420d src/runpod_flash/core/resources/{gpu,cpu}.py (pools, models, instance ids, disk
 * caps); runpod/docs@a900806 serverless/endpoints/endpoint-configurations.mdx (pools, CUDA selection);
 * runpod/docs api-reference/openapi.json (data-center ids such as CA-MTL-1, EU-SE-1, US-TX-3).
 */

/** GPU pool id → the GPU models (Runpod GPU type ids) it holds, with their memory in GB. */
export const GPU_POOLS: Readonly<Record<string, { memoryInGb: number; models: readonly string[] }>> = {
  AMPERE_16: {
    memoryInGb: 16,
    models: [
      "NVIDIA RTX A4000",
      "NVIDIA RTX A4500",
      "NVIDIA RTX 4000 Ada Generation",
      "NVIDIA RTX 2000 Ada Generation",
    ],
  },
  AMPERE_24: { memoryInGb: 24, models: ["NVIDIA RTX A5000", "NVIDIA L4", "NVIDIA GeForce RTX 3090"] },
  ADA_24: { memoryInGb: 24, models: ["NVIDIA GeForce RTX 4090"] },
  ADA_32_PRO: { memoryInGb: 32, models: ["NVIDIA GeForce RTX 5090"] },
  AMPERE_48: { memoryInGb: 48, models: ["NVIDIA A40", "NVIDIA RTX A6000"] },
  ADA_48_PRO: { memoryInGb: 48, models: ["NVIDIA RTX 6000 Ada Generation", "NVIDIA L40", "NVIDIA L40S"] },
  AMPERE_80: { memoryInGb: 80, models: ["NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"] },
  ADA_80_PRO: { memoryInGb: 80, models: ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL"] },
  BLACKWELL_96: {
    memoryInGb: 96,
    models: [
      "NVIDIA RTX PRO 6000 Blackwell Server Edition",
      "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
      "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
    ],
  },
  HOPPER_141: { memoryInGb: 141, models: ["NVIDIA H200"] },
  BLACKWELL_180: { memoryInGb: 180, models: ["NVIDIA B200"] },
};

/** Every GPU model with its memory (what `gpuTypes { id displayName memoryInGb }` lists). */
export function gpuModels(): { id: string; memoryInGb: number }[] {
  return Object.values(GPU_POOLS).flatMap((p) => p.models.map((id) => ({ id, memoryInGb: p.memoryInGb })));
}

/** CPU instance ids: `cpu<gen><c|g>-<vCPU>-<GB RAM>` (flash cpu.py). */
export const CPU_INSTANCE_IDS: readonly string[] = [
  "cpu3c-1-2",
  "cpu3c-2-4",
  "cpu3c-4-8",
  "cpu3c-8-16",
  "cpu3g-1-4",
  "cpu3g-2-8",
  "cpu3g-4-16",
  "cpu3g-8-32",
  "cpu5c-1-2",
  "cpu5c-2-4",
  "cpu5c-4-8",
  "cpu5c-8-16",
];

/** Largest container disk of a CPU instance, GB: vCPU × 10, × 15 for cpu5c (flash cpu.py). */
export function cpuMaxDiskGb(instanceId: string): number {
  return Number(instanceId.split("-")[1]) * (instanceId.startsWith("cpu5c") ? 15 : 10);
}

/** CUDA versions an endpoint may allow (flash gpu.py `CudaVersion`, 11.8 … 13.0). */
export const CUDA_VERSIONS: readonly string[] = [
  "11.8",
  "12.0",
  "12.1",
  "12.2",
  "12.3",
  "12.4",
  "12.5",
  "12.6",
  "12.7",
  "12.8",
  "12.9",
  "13.0",
];

/** A data-center id (`EU-RO-1`, `EUR-NO-1`, `CA-MTL-1`) or, as older docs show for `locations`, a country code. */
export function isLocation(value: string): boolean {
  return /^[A-Z]{2,3}-[A-Z]{2,4}-\d{1,2}$/.test(value) || /^[A-Z]{2}$/.test(value);
}

/**
 * Serverless flex price in USD per GPU per hour, by pool (docs.runpod.io/serverless/pricing, "GPU pricing" table,
 * per-second prices × 3600). What `/v2/catalog/gpus` reports as `price.serverless`. Pools the page does not price
 * carry none (the field is optional in the v2 document).
 */
export const POOL_PRICE_PER_HOUR: Readonly<Record<string, number>> = {
  AMPERE_16: 0.576,
  AMPERE_24: 0.684,
  ADA_24: 1.116,
  AMPERE_48: 1.224,
  ADA_48_PRO: 1.908,
  AMPERE_80: 2.736,
  ADA_80_PRO: 4.176,
  HOPPER_141: 5.58,
  BLACKWELL_180: 8.64,
};

/**
 * CPU flavours as `/v2/catalog/cpus` lists them: vCPU range and RAM per vCPU from the instance ids above
 * (`cpu3c-2-4`: 2 GB per vCPU; `g` flavours 4 GB). The v2 document: `vcpuCount` is a power of two, at least 2, and
 * must be valid for the flavour (BaseCpuConfig). Serverless per-vCPU prices are not published (the docs' pricing
 * page lists none), so the emulator's are placeholders of the right shape.
 */
export const CPU_FLAVORS: Readonly<
  Record<string, { name: string; group: string; min: number; max: number; ramGbPerVcpu: number }>
> = {
  cpu3c: { name: "Compute-Optimized", group: "Gen 3", min: 2, max: 8, ramGbPerVcpu: 2 },
  cpu3g: { name: "General Purpose", group: "Gen 3", min: 2, max: 8, ramGbPerVcpu: 4 },
  cpu5c: { name: "Compute-Optimized", group: "Gen 5", min: 2, max: 8, ramGbPerVcpu: 2 },
};

/** Data centers the emulator lists (`/v2/catalog/datacenters`), with their continental region. */
export const DATA_CENTERS: Readonly<Record<string, { name: string; region: string }>> = {
  "EU-RO-1": { name: "EU Romania 1", region: "EUROPE" },
  "EU-CZ-1": { name: "EU Czechia 1", region: "EUROPE" },
  "EUR-IS-1": { name: "EU Iceland 1", region: "EUROPE" },
  "EU-SE-1": { name: "EU Sweden 1", region: "EUROPE" },
  "US-TX-3": { name: "US Texas 3", region: "NORTH_AMERICA" },
  "US-KS-2": { name: "US Kansas 2", region: "NORTH_AMERICA" },
  "US-GA-1": { name: "US Georgia 1", region: "NORTH_AMERICA" },
  "CA-MTL-1": { name: "CA Montreal 1", region: "NORTH_AMERICA" },
};
