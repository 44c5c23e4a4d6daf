import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoalescingCache } from '../lib/api/cache.js';

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A load whose completion the test controls, counting how often it was started. */
function deferredLoads<V>() {
  const pending: Array<{ resolve: (value: V) => void; reject: (error: unknown) => void }> = [];
  return {
    started: () => pending.length,
    load: () =>
      new Promise<V>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
    resolve: (index: number, value: V) => pending[index]?.resolve(value),
    reject: (index: number, error: unknown) => pending[index]?.reject(error),
  };
}

describe('coalescing', () => {
  it('lets identical concurrent callers share one load', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 0, maxEntries: 4, ...clock() });
    const loads = deferredLoads<string>();
    const answers = [cache.get('k', loads.load), cache.get('k', loads.load), cache.get('k', loads.load)];
    await Promise.resolve();
    loads.resolve(0, 'value');
    const results = await Promise.all(answers);
    expect(loads.started()).toBe(1);
    expect(results.map((result) => result.source)).toEqual(['miss', 'coalesced', 'coalesced']);
    expect(results.every((result) => result.value === 'value')).toBe(true);
  });

  it('keeps different keys apart', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 0, maxEntries: 4, ...clock() });
    const loads = deferredLoads<string>();
    const a = cache.get('a', loads.load);
    const b = cache.get('b', loads.load);
    await Promise.resolve();
    loads.resolve(0, 'A');
    loads.resolve(1, 'B');
    expect([(await a).value, (await b).value]).toEqual(['A', 'B']);
  });

  it('hands a failure to every caller that joined the load', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 5_000, maxEntries: 4, ...clock() });
    const loads = deferredLoads<string>();
    const first = cache.get('k', loads.load);
    const second = cache.get('k', loads.load);
    await Promise.resolve();
    loads.reject(0, new Error('CMS down'));
    await expect(first).rejects.toThrow('CMS down');
    await expect(second).rejects.toThrow('CMS down');
  });

  it('starts a new load once the previous one has finished, when nothing is kept', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 0, maxEntries: 4, ...clock() });
    let loads = 0;
    const load = async () => `answer ${++loads}`;
    expect((await cache.get('k', load)).value).toBe('answer 1');
    expect((await cache.get('k', load)).value).toBe('answer 2');
  });

  it('turns a load that throws at once into a rejection', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 5_000, maxEntries: 4, ...clock() });
    const load = (): Promise<string> => {
      throw new Error('synchronous');
    };
    await expect(cache.get('k', load)).rejects.toThrow('synchronous');
    expect(cache.size).toBe(0);
  });
});

describe('time to live', () => {
  it('answers from the cache within the TTL', async () => {
    const time = clock();
    const cache = new CoalescingCache<number>({ ttlMs: 5_000, maxEntries: 4, now: time.now });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('k', load);
    time.advance(4_999);
    expect(await cache.get('k', load)).toEqual({ value: 1, source: 'hit' });
  });

  it('loads again once the TTL has passed', async () => {
    const time = clock();
    const cache = new CoalescingCache<number>({ ttlMs: 5_000, maxEntries: 4, now: time.now });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('k', load);
    time.advance(5_000);
    expect(await cache.get('k', load)).toEqual({ value: 2, source: 'miss' });
  });

  it('does not keep failures', async () => {
    const cache = new CoalescingCache<number>({ ttlMs: 5_000, maxEntries: 4, ...clock() });
    await expect(cache.get('k', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await cache.get('k', async () => 7)).toEqual({ value: 7, source: 'miss' });
  });

  it('treats an entry as stale when the clock steps backwards', async () => {
    const time = clock();
    const cache = new CoalescingCache<number>({ ttlMs: 5_000, maxEntries: 4, now: time.now });
    await cache.get('k', async () => 1);
    time.advance(-1);
    expect((await cache.get('k', async () => 2)).source).toBe('miss');
  });

  it('keeps nothing when the TTL is 0', async () => {
    const cache = new CoalescingCache<number>({ ttlMs: 0, maxEntries: 4, ...clock() });
    await cache.get('k', async () => 1);
    expect(cache.size).toBe(0);
  });
});

describe('bounds', () => {
  it('drops the oldest entry beyond the entry limit', async () => {
    const cache = new CoalescingCache<string>({ ttlMs: 60_000, maxEntries: 2, ...clock() });
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => key);
    expect(cache.size).toBe(2);
    expect((await cache.get('a', async () => 'reloaded')).source).toBe('miss');
    expect((await cache.get('c', async () => 'reloaded')).source).toBe('hit');
  });

  it('drops the oldest entries beyond the weight limit', async () => {
    const cache = new CoalescingCache<string>({
      ttlMs: 60_000,
      maxEntries: 10,
      maxWeight: 10,
      weigh: (value) => value.length,
      ...clock(),
    });
    await cache.get('a', async () => 'aaaa');
    await cache.get('b', async () => 'bbbb');
    await cache.get('c', async () => 'cccc');
    expect(cache.weight).toBe(8);
    expect((await cache.get('a', async () => 'x')).source).toBe('miss');
  });

  it('does not keep an answer heavier than the whole cache', async () => {
    const cache = new CoalescingCache<string>({
      ttlMs: 60_000,
      maxEntries: 10,
      maxWeight: 3,
      weigh: (value) => value.length,
      ...clock(),
    });
    await cache.get('a', async () => 'abcd');
    expect(cache.size).toBe(0);
  });

  it('never exceeds its entry and weight limits, whatever the sequence of keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.string({ maxLength: 2 }), size: fc.nat(6), wait: fc.nat(3_000) }), {
          maxLength: 60,
        }),
        async (steps) => {
          const time = clock();
          const cache = new CoalescingCache<string>({
            ttlMs: 2_000,
            maxEntries: 5,
            maxWeight: 12,
            weigh: (value) => value.length,
            now: time.now,
          });
          for (const step of steps) {
            time.advance(step.wait);
            await cache.get(step.key, async () => 'x'.repeat(step.size));
            expect(cache.size).toBeLessThanOrEqual(5);
            expect(cache.weight).toBeLessThanOrEqual(12);
            expect(cache.weight).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });

  it('refuses a cache without room for one entry', () => {
    expect(() => new CoalescingCache({ ttlMs: 1, maxEntries: 0, ...clock() })).toThrow(RangeError);
  });
});
