import { InputError, LiveLoadBalancer, gpuInfo, logger, remote } from "flash";

/** GPU load-balanced endpoint: one worker kept warm, requests spread over up to 3. */
export const gpuConfig = new LiveLoadBalancer({ name: "03_05_gpu", workersMin: 1 });

/** Milliseconds since `start`, rounded to 2 decimals. */
function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/** GET /health on the endpoint: is the GPU service up. */
export const gpuHealth = remote(gpuConfig, async () => ({ status: "healthy", service: "gpu" }), {
  method: "GET",
  path: "/health",
});

/** The most numbers one /compute call takes (its route's schema says so). */
export const MAX_NUMBERS = 1_000_000;

/** POST /compute on the endpoint: sum of squares, mean, max and min of a list of numbers. */
export const compute = remote(
  gpuConfig,
  async (request: { numbers: number[] }) => {
    const start = performance.now();
    const numbers = request.numbers;
    if (!Array.isArray(numbers) || numbers.length === 0) throw new InputError("numbers list cannot be empty");
    // One loop, not Math.max(...numbers): spreading a million arguments overflows the call stack.
    let total = 0;
    let squares = 0;
    let max = numbers[0]!;
    let min = numbers[0]!;
    for (const n of numbers) {
      total += n;
      squares += n * n;
      if (n > max) max = n;
      if (n < min) min = n;
    }
    if (!Number.isFinite(squares)) throw new InputError("numbers are too large: their sum of squares overflows");
    return {
      status: "success" as const,
      input_count: numbers.length,
      sum_of_squares: squares,
      mean: total / numbers.length,
      max,
      min,
      compute_time_ms: elapsedMs(start),
      timestamp: new Date().toISOString(),
    };
  },
  { method: "POST", path: "/compute" },
);

/** GET /info on the endpoint: the GPU the worker sees (`available: false`, "No GPU" without one). */
export const gpuDeviceInfo = remote(
  gpuConfig,
  async () => {
    try {
      const gpu = gpuInfo();
      if (!gpu.available) return { available: false, device: "No GPU", count: 0 };
      return { available: true, device: gpu.name, count: gpu.count };
    } catch (err) {
      return { available: false, device: String((err as Error)?.message ?? err), count: 0 };
    }
  },
  { method: "GET", path: "/info" },
);

if (import.meta.main) {
  // `bun workers/gpu/endpoint.ts` calls each route function once through a worker.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    const log = logger("05_load_balancer");
    log.log(
      JSON.stringify([await gpuHealth(), await compute({ numbers: [1, 2, 3, 4, 5] }), await gpuDeviceInfo()], null, 2),
    );
    process.exit(0);
  }, 0);
}
