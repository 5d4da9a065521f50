import { CpuLiveLoadBalancer } from "flash";

/**
 * The load-balanced endpoint that would serve this example's HTTP routes when deployed. It only forwards requests;
 * the model runs on the GPU workers of the remote function, so a small CPU instance is enough here.
 * Delete this file (or the export) to deploy the workers alone.
 *
 * Alternatives:
 *   new CpuLiveLoadBalancer({ name: "02_02_ocr-mothership", workersMin: 1, workersMax: 3 }) // always one warm router
 */
export const mothership = new CpuLiveLoadBalancer({ name: "02_02_ocr-mothership" });
