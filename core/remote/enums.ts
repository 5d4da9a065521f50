/**
 * The enumerations of resource configs, with runpod/flash (Python)'s member names and wire values
 * (runpod/flash src/runpod_flash/core/resources/gpu.py, serverless_cpu.py). Plain `as const` objects, so a value is its wire string and a config stays JSON.
 */

/** GPU pools (Runpod "gpu ids"). `ANY` lets Runpod pick from every pool. */
export const GpuGroup = {
  ANY: "any",
  ADA_24: "ADA_24",
  ADA_32_PRO: "ADA_32_PRO",
  ADA_48_PRO: "ADA_48_PRO",
  ADA_80_PRO: "ADA_80_PRO",
  AMPERE_16: "AMPERE_16",
  AMPERE_24: "AMPERE_24",
  AMPERE_48: "AMPERE_48",
  AMPERE_80: "AMPERE_80",
  HOPPER_141: "HOPPER_141",
  BLACKWELL_96: "BLACKWELL_96",
  BLACKWELL_180: "BLACKWELL_180",
} as const;
/** A GPU pool id. */
export type GpuGroup = (typeof GpuGroup)[keyof typeof GpuGroup];

/** Every concrete pool, A40-class first (runpod/flash (Python)'s "A40s first" rule for `ANY`). */
export function allGpuGroups(): GpuGroup[] {
  const rest = Object.values(GpuGroup).filter((g) => g !== GpuGroup.ANY && g !== GpuGroup.AMPERE_48);
  return [GpuGroup.AMPERE_48, ...rest];
}

/** Specific GPU models, by the display names Runpod uses as ids. */
export const GpuType = {
  ANY: "any",
  NVIDIA_GEFORCE_RTX_4090: "NVIDIA GeForce RTX 4090",
  NVIDIA_GEFORCE_RTX_5090: "NVIDIA GeForce RTX 5090",
  NVIDIA_RTX_6000_ADA_GENERATION: "NVIDIA RTX 6000 Ada Generation",
  NVIDIA_H100_80GB_HBM3: "NVIDIA H100 80GB HBM3",
  NVIDIA_RTX_A4000: "NVIDIA RTX A4000",
  NVIDIA_RTX_A4500: "NVIDIA RTX A4500",
  NVIDIA_RTX_4000_ADA_GENERATION: "NVIDIA RTX 4000 Ada Generation",
  NVIDIA_RTX_2000_ADA_GENERATION: "NVIDIA RTX 2000 Ada Generation",
  NVIDIA_RTX_A5000: "NVIDIA RTX A5000",
  NVIDIA_L4: "NVIDIA L4",
  NVIDIA_GEFORCE_RTX_3090: "NVIDIA GeForce RTX 3090",
  NVIDIA_A40: "NVIDIA A40",
  NVIDIA_RTX_A6000: "NVIDIA RTX A6000",
  NVIDIA_A100_80GB_PCIE: "NVIDIA A100 80GB PCIe",
  NVIDIA_A100_SXM4_80GB: "NVIDIA A100-SXM4-80GB",
  NVIDIA_H200: "NVIDIA H200",
  NVIDIA_B200: "NVIDIA B200",
} as const;
/** A GPU model id. */
export type GpuType = (typeof GpuType)[keyof typeof GpuType];

/** The pool each GPU model belongs to (used to encode `gpuIds` with negations). */
export const GPU_TYPE_POOL: Readonly<Record<Exclude<GpuType, "any">, GpuGroup>> = {
  "NVIDIA GeForce RTX 4090": "ADA_24",
  "NVIDIA GeForce RTX 5090": "ADA_32_PRO",
  "NVIDIA RTX 6000 Ada Generation": "ADA_48_PRO",
  "NVIDIA H100 80GB HBM3": "ADA_80_PRO",
  "NVIDIA RTX A4000": "AMPERE_16",
  "NVIDIA RTX A4500": "AMPERE_16",
  "NVIDIA RTX 4000 Ada Generation": "AMPERE_16",
  "NVIDIA RTX 2000 Ada Generation": "AMPERE_16",
  "NVIDIA RTX A5000": "AMPERE_24",
  "NVIDIA L4": "AMPERE_24",
  "NVIDIA GeForce RTX 3090": "AMPERE_24",
  "NVIDIA A40": "AMPERE_48",
  "NVIDIA RTX A6000": "AMPERE_48",
  "NVIDIA A100 80GB PCIe": "AMPERE_80",
  "NVIDIA A100-SXM4-80GB": "AMPERE_80",
  "NVIDIA H200": "HOPPER_141",
  "NVIDIA B200": "BLACKWELL_180",
};

/** CPU instance types, `cpu{generation}{class}-{vCPU}-{RAM GB}`. */
export const CpuInstanceType = {
  CPU3G_1_4: "cpu3g-1-4",
  CPU3G_2_8: "cpu3g-2-8",
  CPU3G_4_16: "cpu3g-4-16",
  CPU3G_8_32: "cpu3g-8-32",
  CPU3C_1_2: "cpu3c-1-2",
  CPU3C_2_4: "cpu3c-2-4",
  CPU3C_4_8: "cpu3c-4-8",
  CPU3C_8_16: "cpu3c-8-16",
  CPU5C_1_2: "cpu5c-1-2",
  CPU5C_2_4: "cpu5c-2-4",
  CPU5C_4_8: "cpu5c-4-8",
  CPU5C_8_16: "cpu5c-8-16",
} as const;
/** A CPU instance type id. */
export type CpuInstanceType = (typeof CpuInstanceType)[keyof typeof CpuInstanceType];

/** vCPUs of a CPU instance type (`cpu3c-4-8` → 4). */
function cpuInstanceVcpus(id: CpuInstanceType): number {
  return Number(id.split("-")[1]);
}

/** Largest container disk a CPU instance type allows, in GB (vCPU × 10, or × 15 for 5c). */
export function cpuInstanceMaxDiskGb(id: CpuInstanceType): number {
  return cpuInstanceVcpus(id) * (id.startsWith("cpu5c") ? 15 : 10);
}

/** CUDA versions a GPU endpoint may require. */
export const CudaVersion = {
  V11_8: "11.8",
  V12_0: "12.0",
  V12_1: "12.1",
  V12_2: "12.2",
  V12_3: "12.3",
  V12_4: "12.4",
  V12_5: "12.5",
  V12_6: "12.6",
  V12_7: "12.7",
  V12_8: "12.8",
} as const;
/** A CUDA version string. */
export type CudaVersion = (typeof CudaVersion)[keyof typeof CudaVersion];

/** Runpod data centers. */
export const DataCenter = {
  US_CA_2: "US-CA-2",
  US_IL_1: "US-IL-1",
  US_KS_2: "US-KS-2",
  US_MO_1: "US-MO-1",
  US_MO_2: "US-MO-2",
  US_NC_2: "US-NC-2",
  US_NE_1: "US-NE-1",
  US_WA_1: "US-WA-1",
  EU_CZ_1: "EU-CZ-1",
  EU_RO_1: "EU-RO-1",
  EUR_NO_1: "EUR-NO-1",
} as const;
/** A data center id. */
export type DataCenter = (typeof DataCenter)[keyof typeof DataCenter];

/** The data centers with CPU serverless endpoints (runpod/flash core/resources/datacenter.py `CPU_DATACENTERS`). */
export const CPU_DATACENTERS: readonly DataCenter[] = [DataCenter.EU_RO_1];

/** How an endpoint scales: by queue delay (seconds) or by requests per worker. */
export const ServerlessScalerType = {
  QUEUE_DELAY: "QUEUE_DELAY",
  REQUEST_COUNT: "REQUEST_COUNT",
} as const;
/** A scaler type. */
export type ServerlessScalerType = (typeof ServerlessScalerType)[keyof typeof ServerlessScalerType];

/** Queue-based (`QB`) or load-balanced (`LB`) endpoint. */
export const ServerlessType = {
  QB: "QB",
  LB: "LB",
} as const;
/** An endpoint type. */
export type ServerlessType = (typeof ServerlessType)[keyof typeof ServerlessType];

/** HTTP methods a load-balancer route may use (case-sensitive, as in runpod/flash (Python)). */
export const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const;
/** An HTTP method of a load-balancer route. */
export type HttpMethod = (typeof HTTP_METHODS)[number];
