/**
 * Estimated cost per hour of a deployed endpoint at `workersMin` (what it costs idle) and at `workersMax` (the
 * most it can cost): from Runpod's catalog (`GET /v2/catalog/gpus`, `price.serverless` per GPU-hour of each pool;
 * core/runpod/catalog.ts) when it answers, else from the serverless flex prices per second per GPU published on
 * https://docs.runpod.io/serverless/pricing (table "GPU pricing", read 2026-11). Runpod does not publish serverless
 * CPU prices there, so CPU endpoints show no figure rather than a guess. An endpoint listing several pools may
 * get a worker on any of them: the estimate is the range from the cheapest to the dearest pool.
 */
import type { ManifestEndpoint } from "./manifest";

/** Flex price in USD per second per GPU, by GPU pool id (docs.runpod.io/serverless/pricing). */
const FLEX_PRICE_PER_SECOND: Readonly<Record<string, number>> = {
  AMPERE_16: 0.00016, // A4000, A4500, RTX 4000: 16 GB
  ADA_24: 0.00031, // 4090 PRO: 24 GB
  AMPERE_24: 0.00019, // L4, A5000, 3090: 24 GB
  ADA_48_PRO: 0.00053, // L40, L40S, 6000 Ada PRO: 48 GB
  AMPERE_48: 0.00034, // A6000, A40: 48 GB
  ADA_80_PRO: 0.00116, // H100 PRO: 80 GB
  AMPERE_80: 0.00076, // A100: 80 GB
  HOPPER_141: 0.00155, // H200 PRO: 141 GB
  BLACKWELL_180: 0.0024, // B200: 180 GB
};

/** An hourly cost range in USD (equal bounds when one pool), or null when no published price applies. */
export interface HourlyCost {
  low: number;
  high: number;
}

/**
 * The cost of one worker per hour, or null (CPU, or only pools without a price). `catalog`: USD per GPU-hour by pool
 * from Runpod's catalog; a pool it does not price falls back to the published table.
 */
export function workerHourly(
  endpoint: Pick<ManifestEndpoint, "gpuIds" | "gpuCount" | "instanceIds">,
  catalog?: Readonly<Record<string, number>>,
): HourlyCost | null {
  if (endpoint.instanceIds?.length || !endpoint.gpuIds) return null;
  const pools = endpoint.gpuIds
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith("-"));
  const perHour = (p: string) =>
    catalog?.[p] ?? (FLEX_PRICE_PER_SECOND[p] === undefined ? undefined : FLEX_PRICE_PER_SECOND[p]! * 3600);
  const prices = pools.map(perHour).filter((p): p is number => p !== undefined);
  if (!prices.length) return null;
  const gpus = Math.max(1, endpoint.gpuCount ?? 1);
  return { low: Math.min(...prices) * gpus, high: Math.max(...prices) * gpus };
}

/** The endpoint's cost per hour with `workers` workers running (`catalog`: as for workerHourly). */
export function hourlyAt(
  endpoint: ManifestEndpoint,
  workers: number,
  catalog?: Readonly<Record<string, number>>,
): HourlyCost | null {
  const one = workerHourly(endpoint, catalog);
  return one ? { low: one.low * workers, high: one.high * workers } : null;
}

/** `$1.23` or `$0.58–2.09`; `—` when unknown. */
export function formatCost(c: HourlyCost | null): string {
  if (!c) return "—";
  const f = (n: number) => (n === 0 ? "0" : n < 0.01 ? n.toFixed(4) : n.toFixed(2));
  return Math.abs(c.high - c.low) < 1e-9 ? `$${f(c.low)}` : `$${f(c.low)}–${f(c.high)}`;
}

/** Sum of costs (null terms are left out; `partial` says so). */
export function sumCosts(costs: (HourlyCost | null)[]): { total: HourlyCost; partial: boolean } {
  const total = { low: 0, high: 0 };
  let partial = false;
  for (const c of costs) {
    if (!c) {
      partial = true;
      continue;
    }
    total.low += c.low;
    total.high += c.high;
  }
  return { total, partial };
}
