import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WINDOW_MS } from '../lib/model.js';
import { QueueModel } from '../local/simulator/queue.js';
import { generateWindowCalls, TrafficModel, windowStartOf } from '../local/simulator/traffic.js';

// The simulator's live queue is drawn from the calls of its traffic model: what a supervisor sees waiting is
// what the counters say was offered and not yet answered or abandoned.

const seeds = fc.integer({ min: 1, max: 1_000_000 });
const skillIds = fc.integer({ min: 1, max: 200 });
const instants = fc.integer({ min: 978_307_200_000, max: 4_102_444_800_000 });

describe('the simulator’s live queue', () => {
  it('holds at least the calls its counters show offered and not yet resolved in this window', () => {
    fc.assert(
      fc.property(seeds, skillIds, instants, (seed, skillId, at) => {
        const counters = new TrafficModel({ seed }).statsAt(1, 170, skillId, at);
        const previous = new TrafficModel({ seed }).statsAt(1, 170, skillId, windowStartOf(at) - 1);
        const unresolved = counters.allCallCount - counters.cnnedCallCount - counters.abanCallCount;
        const queue = new QueueModel({ seed }).queueAt(1, 170, skillId, at);
        expect(queue.queueSize).toBeGreaterThanOrEqual(unresolved);
        // The rest are calls of the previous window still waiting.
        expect(queue.queueSize - unresolved).toBeLessThanOrEqual(
          previous.allCallCount - previous.cnnedCallCount - previous.abanCallCount,
        );
      }),
    );
  });

  it('has the longest wait of the oldest call still waiting, and calls wait only when no agent is free', () => {
    fc.assert(
      fc.property(seeds, skillIds, instants, (seed, skillId, at) => {
        const queue = new QueueModel({ seed }).queueAt(1, 170, skillId, at);
        const start = windowStartOf(at);
        const waiting = [start - WINDOW_MS, start]
          .flatMap((windowStart) =>
            generateWindowCalls({ seed, ccId: 1, vdn: 170, skillId, windowStart }).map((call) => ({
              offeredAt: windowStart + call.offeredAt,
              leavesAt: windowStart + call.offeredAt + call.waitMs,
            })),
          )
          .filter((call) => call.offeredAt <= at && at < call.leavesAt);
        expect(queue.queueSize).toBe(waiting.length);
        const oldest = Math.min(...waiting.map((call) => call.offeredAt));
        expect(queue.queueTime).toBe(waiting.length === 0 ? 0 : Math.floor((at - oldest) / 1_000));
        if (queue.queueSize > 0) expect(queue.availAgents).toBe(0);
        expect(queue.availAgents).toBeLessThanOrEqual(queue.loggedOnAgents);
        expect(queue.callId === '').toBe(queue.queueSize === 0);
      }),
    );
  });

  it('lets the longest wait grow second by second while nobody answers the oldest call', () => {
    const model = new QueueModel({ seed: 1 });
    // The first moment of a busy hour at which a call has waited 30 s.
    const from = Date.UTC(2026, 10, 26, 9, 0, 0);
    let at = from;
    let skillId = 1;
    search: for (; at < from + 3_600_000; at += 1_000) {
      for (skillId = 1; skillId <= 20; skillId += 1) {
        if (model.queueAt(1, 170, skillId, at).queueTime === 30) break search;
      }
    }
    expect(at).toBeLessThan(from + 3_600_000);
    // While the same call is the oldest in the queue, its wait is the queue's longest and grows with the clock.
    const oldest = model.queueAt(1, 170, skillId, at).callId;
    const longest: number[] = [];
    for (let second = 0; second < 5; second += 1) {
      const queue = model.queueAt(1, 170, skillId, at + second * 1_000);
      if (queue.callId !== oldest) break;
      longest.push(queue.queueTime);
    }
    expect(longest.length).toBeGreaterThan(1);
    expect(longest).toEqual([30, 31, 32, 33, 34].slice(0, longest.length));
  });

  it('has agents log on and off through the day, and none while the lines are closed', () => {
    const model = new QueueModel({ seed: 1, openingHours: { opensAtHour: 8, closesAtHour: 20 } });
    const morning = Date.UTC(2026, 10, 26, 9, 0, 0);
    const loggedOn = new Set(
      Array.from(
        { length: 60 },
        (_, minute) => model.queueAt(1, 170, 3, morning + minute * 60_000).loggedOnAgents,
      ),
    );
    expect(loggedOn.size).toBeGreaterThan(1);
    const night = model.queueAt(1, 170, 3, Date.UTC(2026, 10, 26, 23, 0, 0));
    expect(night).toMatchObject({ queueSize: 0, queueTime: 0, loggedOnAgents: 0, availAgents: 0 });
  });
});
