import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that serves this example's HTTP routes (the hello route) once `flash deploy` has
 * deployed it. Without this file, `flash deploy` creates a default CPU load balancer, `<app>-mothership`, so the
 * routes are served either way.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "01_02_cpu_worker-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "01_02_cpu_worker-mothership", gpus: [GpuGroup.ANY] })             // on a GPU
 *   new CpuLiveLoadBalancer({ name: "my-api-gateway", workersMin: 1, workersMax: 3 })               // a custom name
 */
export const mothership = new CpuLiveLoadBalancer({ name: "01_02_cpu_worker-mothership" });
