/** A counting semaphore: bounds how many activities or orchestrator episodes run at once. */
export class Semaphore {
  #available: number;
  readonly #waiting: Array<() => void> = [];

  /** Creates a semaphore with `limit` permits (at least one). */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
    this.#available = limit;
  }

  /** Runs `work` once a permit is free and releases the permit when it settles. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.#available > 0) this.#available--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // Hand the permit straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.#available++;
    }
  }
}
