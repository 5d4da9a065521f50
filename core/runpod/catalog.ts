/**
 * Runpod's hardware catalog through REST v2 (`GET /v2/catalog/gpus?include=AVAILABILITY&product=SERVERLESS`,
 * runpod/docs api-reference-v2/openapi.json): serverless pool prices and stock, read once and kept for a few
 * minutes. When the catalog does not answer (offline, an old key, an emulator without it), callers fall back to
 * the tables in flash's code (core/deploy/cost.ts), so a deploy or a queued call never waits on it.
 */
import { logger } from "../base/log";
import type { RunpodRestV2, V2GpuType } from "./rest-v2";

const clog = logger("runpod");

/** Serverless price in USD per GPU per hour and stock, by pool id. */
export interface PoolFacts {
  /** The catalog's serverless rate (the same for every type of a pool); absent when it lists none. */
  pricePerHour?: number;
  /** The best stock level among the pool's GPU types (NONE … HIGH). */
  availability?: string;
}

const ORDER = ["NONE", "LOW", "MEDIUM", "HIGH"];

/** Pool facts from the catalog's GPU types. */
function poolsOf(gpus: V2GpuType[]): Map<string, PoolFacts> {
  const pools = new Map<string, PoolFacts>();
  for (const g of gpus) {
    if (!g.pool) continue;
    const facts = pools.get(g.pool) ?? {};
    if (typeof g.price?.serverless === "number") {
      facts.pricePerHour = Math.max(facts.pricePerHour ?? 0, g.price.serverless);
    }
    if (g.availability && ORDER.indexOf(g.availability) > ORDER.indexOf(facts.availability ?? "NONE")) {
      facts.availability = g.availability;
    } else facts.availability ??= g.availability;
    pools.set(g.pool, facts);
  }
  return pools;
}

/** The catalog of one account, cached for `ttlMs`; `pools()` is undefined while it cannot be read. */
export class RunpodCatalog {
  private cached?: { at: number; pools: Promise<Map<string, PoolFacts> | undefined> };

  constructor(
    private readonly rest: RunpodRestV2,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** Facts by pool id, or undefined when the catalog did not answer (the caller uses its own tables). */
  pools(): Promise<Map<string, PoolFacts> | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.pools;
    const pools = this.rest
      .gpuTypes(true)
      .then(poolsOf)
      .catch((err: Error) => {
        clog.debug(`the GPU catalog did not answer (${err.message}); using flash's own tables`);
        this.cached = undefined;
        return undefined;
      });
    this.cached = { at: Date.now(), pools };
    return pools;
  }

  /** Serverless USD per GPU-hour by pool, or undefined when the catalog did not answer. */
  async prices(): Promise<Record<string, number> | undefined> {
    const pools = await this.pools();
    if (!pools) return undefined;
    const out: Record<string, number> = {};
    for (const [id, f] of pools) if (f.pricePerHour !== undefined) out[id] = f.pricePerHour;
    return out;
  }

  /**
   * What the catalog says of the stock of these pools (`ADA_24 stock LOW, AMPERE_16 NONE`), for a queue wait's
   * explanation; undefined when it did not answer or lists none of them.
   */
  async stockOf(pools: string[]): Promise<string | undefined> {
    const facts = await this.pools();
    if (!facts || !pools.length) return undefined;
    const parts = pools.flatMap((p) => {
      const a = facts.get(p)?.availability;
      return a ? [`${p} ${a}`] : [];
    });
    return parts.length ? `Runpod's catalog lists serverless stock ${parts.join(", ")}` : undefined;
  }
}
