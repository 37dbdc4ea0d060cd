import { describe, expect, it } from 'vitest';
import { mapBounded } from '../shared/concurrency';

describe('mapBounded', () => {
  it('keeps at most `limit` calls in flight, starts the next as one ends, and returns results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (item, index) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Later items finish first, so order must come from the index, not from completion.
        await new Promise((resolve) => setTimeout(resolve, 20 - item));
        inFlight--;
        return `${item}@${index}`;
      },
    );
    expect(most).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `${i}@${i}`));
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });

  it('rejects with the first failure', async () => {
    await expect(
      mapBounded([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('two');
        return n;
      }),
    ).rejects.toThrow('two');
  });
});
