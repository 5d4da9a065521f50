import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that serves this example's HTTP routes (/classify and the per-step routes) once `flash
 * deploy` has deployed it. Without this file, `flash deploy` creates a default CPU load balancer,
 * `<app>-mothership`, so the routes are served either way.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "01_03_mixed_workers-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "01_03_mixed_workers-mothership", gpus: [GpuGroup.ANY] })             // on a GPU
 *   new CpuLiveLoadBalancer({ name: "my-api-gateway", workersMin: 1, workersMax: 3 })                  // a custom name
 */
export const mothership = new CpuLiveLoadBalancer({ name: "01_03_mixed_workers-mothership" });
