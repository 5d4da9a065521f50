import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that would serve this example's HTTP routes when deployed.
 * Delete this file (or the export) to deploy the workers alone.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "04_03_batching-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "04_03_batching-mothership", gpus: [GpuGroup.ANY] })            // on a GPU
 */
export const mothership = new CpuLiveLoadBalancer({ name: "04_03_batching-mothership" });
