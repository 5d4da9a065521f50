import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that serves this example's HTTP routes once `flash deploy` has deployed it. Without
 * this file, `flash deploy` creates a default CPU load balancer, `<app>-mothership`, so the routes are served either
 * way.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "03_04_custom_images-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "03_04_custom_images-mothership", gpus: [GpuGroup.ANY] })            // on a GPU
 */
export const mothership = new CpuLiveLoadBalancer({ name: "03_04_custom_images-mothership" });
