/**
 * Five scaling strategies as resource configs: three GPU (queue-based) and two CPU. Only settings differ; the work
 * is the same (work.ts). Numbers follow the Python original's 04_scaling_performance/01_autoscaling.
 */
import { CpuInstanceType, CpuLiveServerless, GpuGroup, LiveServerless, ServerlessScalerType } from "flash";

/** GPU, scale to zero: no cost while idle; the first request after 5 idle minutes pays a cold start. */
export const gpuScaleToZero = new LiveServerless({
  name: "04_01_gpu_scale_to_zero",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 300,
  scalerType: ServerlessScalerType.QUEUE_DELAY,
  scalerValue: 4, // add a worker when a job has waited 4 s
  executionTimeoutMs: 60_000,
});

/** GPU, always on: one worker kept warm (billed around the clock), two more under load. */
export const gpuAlwaysOn = new LiveServerless({
  name: "04_01_gpu_always_on",
  gpus: [GpuGroup.ANY],
  workersMin: 1,
  workersMax: 3,
  idleTimeout: 60,
  scalerType: ServerlessScalerType.QUEUE_DELAY,
  scalerValue: 4,
  executionTimeoutMs: 60_000,
});

/** GPU, high throughput: two warm workers, up to ten, scaled by requests per worker rather than by waiting. */
export const gpuHighThroughput = new LiveServerless({
  name: "04_01_gpu_high_throughput",
  gpus: [GpuGroup.ANY],
  workersMin: 2,
  workersMax: 10,
  idleTimeout: 30,
  scalerType: ServerlessScalerType.REQUEST_COUNT,
  scalerValue: 3, // about one worker per 3 requests in flight
  executionTimeoutMs: 60_000,
});

/** CPU, scale to zero: the cheapest instance, idle workers stopped after 1 s. */
export const cpuScaleToZero = new CpuLiveServerless({
  name: "04_01_cpu_scale_to_zero",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 5,
  idleTimeout: 1,
  executionTimeoutMs: 30_000,
});

/** CPU, burst-ready: one warm worker, up to ten for bursts, kept 30 s after a burst. */
export const cpuBurst = new CpuLiveServerless({
  name: "04_01_cpu_burst",
  instanceIds: [CpuInstanceType.CPU3G_2_8],
  workersMin: 1,
  workersMax: 10,
  idleTimeout: 30,
  executionTimeoutMs: 30_000,
});

/** Each strategy's route (under /gpu or /cpu), config, and when to choose it. */
export const STRATEGIES = [
  {
    route: "/gpu/scale-to-zero",
    config: gpuScaleToZero,
    use_when: "sporadic traffic, cost first: batch jobs, internal tools, demos",
  },
  {
    route: "/gpu/always-on",
    config: gpuAlwaysOn,
    use_when: "steady traffic where the first request must not wait for a cold start",
  },
  {
    route: "/gpu/high-throughput",
    config: gpuHighThroughput,
    use_when: "many concurrent requests: APIs under load, bulk inference",
  },
  {
    route: "/cpu/scale-to-zero",
    config: cpuScaleToZero,
    use_when: "light, occasional CPU work: webhooks, validation, small transforms",
  },
  { route: "/cpu/burst", config: cpuBurst, use_when: "bursty CPU work that must start fast: fan-out, preprocessing" },
] as const;
