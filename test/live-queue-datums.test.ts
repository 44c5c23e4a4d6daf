import { describe, expect, it } from 'vitest';
import type { LiveQueueRead } from '../lib/cms/live-queue.js';
import { type Rollup, rollup, ZERO_COUNTERS } from '../lib/kpi.js';
import { ALL_METRICS, DEFAULT_METRICS, parseMetricSelection } from '../lib/metrics/build-datums.js';
import { liveQueueDatums } from '../lib/metrics/live-queue-datums.js';
import { liveQueueMissing, liveQueueRead } from './support/live-queue.js';

const READ_AT = Date.UTC(2026, 10, 26, 10, 3, 27, 412);
/** Skill 1: 4 waiting, the longest 185 s; skill 2: empty; skill 3: 1 waiting for 30 s. */
const read = liveQueueRead(READ_AT, [
  [1, 4, 185, 6, 0],
  [2, 0, 0, 3, 2],
  [3, 1, 30, 2, 0],
]);
const vdn = { CcId: '1', Vdn: '170' };

const WINDOW = Date.UTC(2026, 10, 26, 10, 0);
/** The window's total of a VDN with `offered` calls offered so far, nothing else. */
const windowTotal = (offered: number) =>
  rollup([{ skillId: 1, windowStart: WINDOW, counters: { ...ZERO_COUNTERS, CallsOffered: offered } }]);
const busyWindow = windowTotal(3);
const idleWindow = windowTotal(0);

/** A VDN's read as the live queue's datums see it: its live queue, and its window's total (default busy). */
const vdnRead = (
  ccId: number,
  number: number,
  liveQueue: LiveQueueRead,
  total: Rollup | undefined = busyWindow,
) => ({
  ccId,
  vdn: number,
  liveQueue,
  total,
});

describe('live-queue datums', () => {
  it('publish per VDN the calls waiting summed and the longest wait, stamped with the time of the read', () => {
    expect(liveQueueDatums([vdnRead(1, 170, read)], { selection: DEFAULT_METRICS })).toEqual([
      { name: 'CallsWaiting', unit: 'Count', value: 5, timestamp: READ_AT, dimensions: vdn },
      { name: 'LongestWaitTime', unit: 'Seconds', value: 185, timestamp: READ_AT, dimensions: vdn },
    ]);
  });

  it('publish per skill only when the skill selection names them, and nothing for an empty queue', () => {
    const datums = liveQueueDatums([vdnRead(1, 170, read)], {
      selection: { skill: parseMetricSelection('LongestWaitTime'), vdn: new Set() },
    });
    expect(datums).toEqual([
      {
        name: 'LongestWaitTime',
        unit: 'Seconds',
        value: 185,
        timestamp: READ_AT,
        dimensions: { ...vdn, SkillId: '1' },
      },
      {
        name: 'LongestWaitTime',
        unit: 'Seconds',
        value: 30,
        timestamp: READ_AT,
        dimensions: { ...vdn, SkillId: '3' },
      },
    ]);
  });

  it('publish nothing for a VDN whose live queue was not read, nor for one with no skill', async () => {
    const missing = liveQueueMissing();
    const none = liveQueueRead(READ_AT, []);
    expect(
      liveQueueDatums([vdnRead(1, 171, missing), vdnRead(1, 172, none)], { selection: ALL_METRICS }),
    ).toEqual([]);
  });

  it('publish nothing for a quiet VDN: an idle window and nobody waiting', () => {
    const empty = liveQueueRead(READ_AT, [
      [1, 0, 0, 6, 6],
      [2, 0, 0, 3, 3],
    ]);
    expect(liveQueueDatums([vdnRead(1, 170, empty, idleWindow)], { selection: ALL_METRICS })).toEqual([]);
  });

  /** The VDN's live-queue datums of a read, as [name, value]. */
  const vdnFigures = (liveQueue: LiveQueueRead, total: Rollup | undefined) =>
    liveQueueDatums([vdnRead(1, 170, liveQueue, total)], { selection: DEFAULT_METRICS }).map((datum) => [
      datum.name,
      datum.value,
    ]);

  it('publish the VDN’s figures of an idle window while calls are waiting', () => {
    expect(vdnFigures(read, idleWindow)).toEqual([
      ['CallsWaiting', 5],
      ['LongestWaitTime', 185],
    ]);
  });

  it('publish the VDN’s zeros of an empty queue while its window is busy, or its window’s total unknown', () => {
    const empty = liveQueueRead(READ_AT, [[1, 0, 0, 6, 6]]);
    for (const total of [busyWindow, undefined]) {
      expect(vdnFigures(empty, total)).toEqual([
        ['CallsWaiting', 0],
        ['LongestWaitTime', 0],
      ]);
    }
  });

  it('order VDNs by call center, then VDN', () => {
    const datums = liveQueueDatums([vdnRead(2, 1, read), vdnRead(1, 9, read)], {
      selection: DEFAULT_METRICS,
    });
    expect(datums.map((datum) => `${datum.dimensions.CcId}/${datum.dimensions.Vdn}`)).toEqual([
      '1/9',
      '1/9',
      '2/1',
      '2/1',
    ]);
  });
});
