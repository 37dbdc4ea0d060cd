/** Bounded fan-out: work over many items with a fixed number in flight, shared by every layer. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, a new one starting as soon as one ends (never
 * waiting for a whole batch); results in input order. The first rejection rejects the whole.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at]!, at);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
