/** Maps items with at most `limit` promises in flight; results keep the input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Bounds the bytes that concurrent work holds in memory (whole objects being copied). Admission
 * is first come, first served; an item larger than the whole budget waits for the rest and runs alone.
 */
export class ByteBudget {
  readonly #limit: number;
  #used = 0;
  readonly #waiting: { cost: number; admit: () => void }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async use<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    const cost = Math.min(bytes, this.#limit);
    if (this.#waiting.length === 0 && this.#used + cost <= this.#limit) this.#used += cost;
    else await new Promise<void>((admit) => this.#waiting.push({ cost, admit }));
    try {
      return await work();
    } finally {
      this.#used -= cost;
      this.#admitWaiting();
    }
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#used + this.#waiting[0]!.cost <= this.#limit) {
      const next = this.#waiting.shift()!;
      this.#used += next.cost;
      next.admit();
    }
  }
}
