import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that would serve this example's HTTP routes when deployed (/classify and the per-step routes).
 * Delete this file (or the export) to deploy the workers alone.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "01_03_mixed_workers-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "01_03_mixed_workers-mothership", gpus: [GpuGroup.ANY] })             // on a GPU
 *   new CpuLiveLoadBalancer({ name: "my-api-gateway", workersMin: 1, workersMax: 3 })                  // a custom name
 */
export const mothership = new CpuLiveLoadBalancer({ name: "01_03_mixed_workers-mothership" });
