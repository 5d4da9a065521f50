import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that serves this example's HTTP routes once `flash deploy` has deployed it. Without
 * this file, `flash deploy` creates a default CPU load balancer, `<app>-mothership`, so the routes are served either
 * way.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "03_03_calling_endpoints-mothership", workersMin: 2, workersMax: 10 }) // more capacity
 *   new LiveLoadBalancer({ name: "03_03_calling_endpoints-mothership", gpus: [GpuGroup.ANY] })            // on a GPU
 */
export const mothership = new CpuLiveLoadBalancer({
  name: "03_03_calling_endpoints-mothership",
  // The endpoint the routes call, read when `flash deploy` builds (from the environment or .env). The deployed
  // mothership already has RUNPOD_API_KEY (flash gives it one to call endpoints) and the endpoint base URL.
  env: { TARGET_ENDPOINT_ID: process.env.TARGET_ENDPOINT_ID ?? "" },
});
