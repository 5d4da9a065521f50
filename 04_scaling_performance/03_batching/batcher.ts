/**
 * A dynamic batcher: requests that arrive within `windowMs` of the first one waiting are coalesced into one call of
 * `run` (at most `maxBatch` items; a full batch goes at once). Each caller gets its own item's result, and the size
 * of the batch it rode in. A window of 0 sends every request alone (no batching), for comparison.
 */
export class Batcher<I, O> {
  private waiting: { item: I; resolve: (r: Batched<O>) => void; reject: (e: unknown) => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Batches sent and items in them, since the batcher was made. */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    readonly windowMs: number,
    readonly maxBatch: number,
  ) {}

  /** Queue one item; resolves with its result once its batch ran (rejects with the batch's error). */
  submit(item: I): Promise<Batched<O>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.windowMs === 0 || this.waiting.length >= this.maxBatch) return this.flush();
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (!batch.length) return;
    if (this.waiting.length) this.timer = setTimeout(() => this.flush(), this.windowMs); // the overflow's own window
    this.stats.batches++;
    this.stats.items += batch.length;
    this.run(batch.map((b) => b.item)).then(
      (results) => {
        if (results.length !== batch.length) {
          const err = new Error(`the batch function returned ${results.length} results for ${batch.length} items`);
          for (const b of batch) b.reject(err);
          return;
        }
        batch.forEach((b, i) => b.resolve({ result: results[i]!, batchSize: batch.length }));
      },
      (err) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}

/** One caller's share of a batch. */
export interface Batched<O> {
  result: O;
  batchSize: number;
}
