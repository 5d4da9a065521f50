import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that would serve this example's HTTP routes when deployed (the hello route).
 * Delete this file (or the export) to deploy the workers alone.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "01_02_cpu_worker-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "01_02_cpu_worker-mothership", gpus: [GpuGroup.ANY] })             // on a GPU
 *   new CpuLiveLoadBalancer({ name: "my-api-gateway", workersMin: 1, workersMax: 3 })               // a custom name
 */
export const mothership = new CpuLiveLoadBalancer({ name: "01_02_cpu_worker-mothership" });
