import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that would serve this example's HTTP routes when deployed (the gpu and cpu service routes).
 * Delete this file (or the export) to deploy the workers alone.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "03_05_load_balancer-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "03_05_load_balancer-mothership", gpus: [GpuGroup.ANY] })             // on a GPU
 *   new CpuLiveLoadBalancer({ name: "my-api-gateway", workersMin: 1, workersMax: 3 })                  // a custom name
 */
export const mothership = new CpuLiveLoadBalancer({ name: "03_05_load_balancer-mothership" });
