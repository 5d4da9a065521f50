import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that serves this example's HTTP routes once `flash deploy` has deployed it. It only
 * forwards requests; the model runs on the CPU workers of the remote function, so a small CPU instance is enough
 * here. Without this file, `flash deploy` creates a default CPU load balancer, `<app>-mothership`, so the routes are
 * served either way.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "02_02_ocr-mothership", workersMin: 1, workersMax: 3 }) // always one warm router
 */
export const mothership = new CpuLiveLoadBalancer({ name: "02_02_ocr-mothership" });
