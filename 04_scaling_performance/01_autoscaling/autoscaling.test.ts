import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { checkOptions, formatReport, quantile, runLoadTest } from "./load_test";
import { STRATEGIES } from "./strategies";
import { matmulChecksum, runWork } from "./work";

const ex = exampleHarness(import.meta.dir);
setDefaultTimeout(60_000);

describe("the work", () => {
  test("the checksum is deterministic and matches a naive product", () => {
    const n = 9;
    let naive = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) naive += ((i + k) % 7) * ((k * j) % 5);
    expect(matmulChecksum(n)).toBe(naive);
    expect(matmulChecksum(64)).toBe(1247680);
  });

  test("a size outside 8–512 is an InputError (400)", () => {
    const err = (() => {
      try {
        runWork("x", STRATEGIES[0].config, 4);
      } catch (e) {
        return e as Error & { status?: number };
      }
    })();
    expect(err?.name).toBe("InputError");
    expect(err?.message).toBe("matrix_size must be a whole number from 8 to 512, got 4");
  });
});

describe("routes (local pool)", () => {
  test("every strategy answers through its own config, with its settings", async () => {
    for (const s of STRATEGIES) {
      const { status, body } = await ex.post(s.route, { matrix_size: 16 });
      expect(status).toBe(200);
      expect(body.config).toMatchObject({
        name: s.config.name,
        workers_min: s.config.workersMin,
        workers_max: s.config.workersMax,
        idle_timeout_s: s.config.idleTimeout,
      });
      expect(body.checksum).toBe(matmulChecksum(16));
    }
  });

  test("warm configs keep workersMin workers; scale-to-zero configs keep none when idle", async () => {
    expect((await ex.pool("04_01_gpu_high_throughput")).workersMin).toBe(2);
    expect((await ex.pool("04_01_gpu_high_throughput")).workers.total).toBeGreaterThanOrEqual(2);
    expect((await ex.pool("04_01_cpu_burst")).workers.total).toBeGreaterThanOrEqual(1);
  });
});

describe("the load test, over loopback against the example", () => {
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => ex.app.fetch(req) });
  });
  afterAll(() => server.stop(true));

  test("cpu/scale-to-zero scales up during a burst, to zero in the pause, and again for the second burst", async () => {
    const report = await runLoadTest({
      url: `http://127.0.0.1:${server.port}`,
      strategy: "cpu/scale-to-zero",
      requests: 16,
      concurrency: 4,
      pauseS: 3, // idleTimeout is 1 s
      matrixSize: 128,
    });
    const [warm, burst, pause, second] = report.phases;
    expect(report.pool).toBe("04_01_cpu_scale_to_zero");
    expect(report.phases.map((p) => p.phase)).toEqual(["warm-up", "burst", "pause", "second burst"]);
    expect(warm!.errors + burst!.errors + second!.errors).toBe(0);
    expect(burst!.requests).toBe(16);
    expect(burst!.p50_ms).toBeGreaterThan(0);
    expect(burst!.p95_ms!).toBeGreaterThanOrEqual(burst!.p50_ms!);
    expect(burst!.workers_peak!).toBeGreaterThan(1); // scaled up under 4 concurrent requests
    expect(burst!.workers_peak!).toBeLessThanOrEqual(5); // never past workersMax
    expect(pause!.workers_end).toBe(0); // scaled to zero after idleTimeout
    expect(second!.workers_start).toBe(0);
    expect(second!.workers_peak!).toBeGreaterThan(0); // cold started again
    expect(formatReport(report)).toContain("workers start→peak→end");
  }, 90_000);

  test("options outside the limits are refused with a message", () => {
    const base = { url: "http://x", strategy: "cpu/burst", requests: 10, concurrency: 2, pauseS: 1, matrixSize: 64 };
    expect(() => checkOptions({ ...base, strategy: "gpu/nope" })).toThrow(
      "--strategy must be one of gpu/scale-to-zero",
    );
    expect(() => checkOptions({ ...base, requests: 5000 })).toThrow("--requests must be a whole number from 1 to 1000");
    expect(() => checkOptions({ ...base, concurrency: 0 })).toThrow(
      "--concurrency must be a whole number from 1 to 64",
    );
    expect(() => checkOptions({ ...base, pauseS: 500 })).toThrow("--pause must be 0 to 120 seconds");
  });

  test("quantile uses the nearest rank", () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(quantile([], 0.5)).toBeNull();
  });
});
