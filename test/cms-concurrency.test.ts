import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadlineSignal, invocationDeadline, LAMBDA_SAFETY_MS, Limiter } from '../lib/concurrency.js';

/** A task the test finishes by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('Limiter', () => {
  it('never runs more tasks at once than it has permits, and uses them all', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 30 }),
        async (permits, durations) => {
          const limiter = new Limiter(permits);
          let running = 0;
          let peak = 0;
          const results = await Promise.all(
            durations.map((turns, index) =>
              limiter.run(async () => {
                running += 1;
                peak = Math.max(peak, running);
                for (let turn = 0; turn < turns; turn += 1) await nextTurn();
                running -= 1;
                return index;
              }),
            ),
          );
          expect(results).toEqual(durations.map((_, index) => index));
          expect(peak).toBe(Math.min(permits, durations.length));
          expect(limiter.active).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('starts waiting tasks in the order they arrived', async () => {
    const limiter = new Limiter(1);
    const first = gate();
    const started: number[] = [];
    const runs = [
      limiter.run(() => first.promise),
      ...[1, 2, 3].map((n) =>
        limiter.run(async () => {
          started.push(n);
        }),
      ),
    ];
    expect(limiter.pending).toBe(3);
    first.open();
    await Promise.all(runs);
    expect(started).toEqual([1, 2, 3]);
  });

  it('frees the permit of a task that fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(limiter.active).toBe(0);
  });

  it('drops a waiting task whose signal aborts, with the signal reason, and never starts it', async () => {
    const limiter = new Limiter(1);
    const first = gate();
    const holder = limiter.run(() => first.promise);
    const controller = new AbortController();
    let started = false;
    const waiting = limiter.run(async () => {
      started = true;
    }, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(limiter.pending).toBe(0);
    first.open();
    await holder;
    expect(started).toBe(false);
    expect(limiter.active).toBe(0);
  });

  it('refuses a task whose signal has already aborted', async () => {
    const limiter = new Limiter(2);
    await expect(limiter.run(() => Promise.resolve(1), AbortSignal.abort(new Error('late')))).rejects.toThrow(
      'late',
    );
    expect(limiter.active).toBe(0);
  });

  it.each([[0], [-1], [1.5], [Number.NaN]])('refuses %d permits', (permits) => {
    expect(() => new Limiter(permits)).toThrow(RangeError);
  });
});

describe('the deadline of an invocation', () => {
  const NOW = 1_700_000_000_000;

  it("falls a second before Lambda's time runs out", () => {
    expect(LAMBDA_SAFETY_MS).toBe(1_000);
    expect(invocationDeadline(3_000, NOW)).toBe(NOW + 2_000);
  });

  it('falls at the limit a setting gives when that comes first', () => {
    expect(invocationDeadline(30_000, NOW, 5_000)).toBe(NOW + 5_000);
    expect(invocationDeadline(3_000, NOW, 5_000)).toBe(NOW + 2_000);
  });

  it('falls at the limit when a makeshift context reports no usable remaining time', () => {
    expect(invocationDeadline(Number.NaN, NOW, 5_000)).toBe(NOW + 5_000);
  });

  it('is never later than either bound, whatever the times', () => {
    fc.assert(
      fc.property(fc.nat(900_000), fc.nat(900_000), (remainingMs, limitMs) => {
        const deadline = invocationDeadline(remainingMs, NOW, limitMs);
        expect(deadline).toBeLessThanOrEqual(NOW + remainingMs - LAMBDA_SAFETY_MS);
        expect(deadline).toBeLessThanOrEqual(NOW + limitMs);
      }),
    );
  });
});

describe('the signal of a deadline', () => {
  it('is aborted already when no time is left, as a timeout', () => {
    for (const remainingMs of [0, -5]) {
      const signal = deadlineSignal(remainingMs);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
    }
  });

  it('aborts as a timeout once the time has passed', async () => {
    const signal = deadlineSignal(20);
    expect(signal.aborted).toBe(false);
    // Timers fire in the order they fall due: the signal's is first.
    await sleep(40);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('does not abort early for more time than a timer can hold', async () => {
    const signal = deadlineSignal(Number.POSITIVE_INFINITY);
    await sleep(20);
    expect(signal.aborted).toBe(false);
  });
});
