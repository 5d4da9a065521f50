/**
 * The work every strategy runs: an n×n matrix product in plain TypeScript (no dependency, so no install on a cold
 * worker), timed, with the facts of the config that ran it. It runs on the worker's CPU; on the GPU configs it
 * stands for GPU work, since the lesson here is scaling, not the kernel.
 */
import { InputError, type ResourceConfig, t } from "flash";

/** Matrix sizes a request may ask for: 512³ multiply-adds is about 0.1–0.5 s on one core. */
export const MATRIX = { min: 8, max: 512, default: 128 } as const;

/** What a strategy's function answers. */
export interface WorkResult {
  strategy: string;
  matrix_size: number;
  /** Sum of all entries of A·B with A[i][j] = (i + j) mod 7, B[i][j] = (i · j) mod 5: the same for a given size. */
  checksum: number;
  compute_ms: number;
  config: ConfigFacts;
}

/** The scaling settings of a config, as the reply and GET /strategies show them. */
export interface ConfigFacts {
  name: string;
  kind: string;
  workers_min: number;
  workers_max: number;
  idle_timeout_s: number;
  scaler_type: string;
  scaler_value: number;
  execution_timeout_ms: number;
}

/** The scaling settings of `config`. */
export function configFacts(config: ResourceConfig): ConfigFacts {
  return {
    name: config.name,
    kind: config.kind,
    workers_min: config.workersMin,
    workers_max: config.workersMax,
    idle_timeout_s: config.idleTimeout,
    scaler_type: config.scalerType,
    scaler_value: config.scalerValue,
    execution_timeout_ms: config.executionTimeoutMs,
  };
}

/** The checksum of A·B for size n (see WorkResult.checksum), computed with a cache-friendly i-k-j loop. */
export function matmulChecksum(n: number): number {
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a[i * n + j] = (i + j) % 7;
      b[i * n + j] = (i * j) % 5;
    }
  }
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  let sum = 0;
  for (const v of c) sum += v;
  return sum;
}

/** Run the work for one strategy: check the size (InputError → 400), multiply, time it. */
export function runWork(strategy: string, config: ResourceConfig, size: number = MATRIX.default): WorkResult {
  if (!Number.isInteger(size) || size < MATRIX.min || size > MATRIX.max) {
    throw new InputError(`matrix_size must be a whole number from ${MATRIX.min} to ${MATRIX.max}, got ${size}`);
  }
  const started = performance.now();
  const checksum = matmulChecksum(size);
  return {
    strategy,
    matrix_size: size,
    checksum,
    compute_ms: Math.round((performance.now() - started) * 100) / 100,
    config: configFacts(config),
  };
}

/** The body every strategy route takes. */
export const WorkBody = t.Object(
  {
    matrix_size: t.Optional(
      t.Integer({
        minimum: MATRIX.min,
        maximum: MATRIX.max,
        default: MATRIX.default,
        description: `n for an n×n matrix product (${MATRIX.min}–${MATRIX.max})`,
        error: `matrix_size must be a whole number from ${MATRIX.min} to ${MATRIX.max}`,
      }),
    ),
  },
  { examples: [{ matrix_size: 64 }] },
);

/** What every strategy route answers. */
export const WorkReply = t.Object({
  strategy: t.String(),
  matrix_size: t.Integer(),
  checksum: t.Number(),
  compute_ms: t.Number(),
  config: t.Object({
    name: t.String(),
    kind: t.String(),
    workers_min: t.Integer(),
    workers_max: t.Integer(),
    idle_timeout_s: t.Number(),
    scaler_type: t.String(),
    scaler_value: t.Number(),
    execution_timeout_ms: t.Number(),
  }),
});

/** The options of a strategy route: its body, its reply and its summary. */
export const route = (summary: string) => ({ body: WorkBody, response: { 200: WorkReply }, detail: { summary } });
