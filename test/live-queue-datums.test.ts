import { describe, expect, it } from 'vitest';
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

describe('live-queue datums', () => {
  it('publish per VDN the calls waiting summed and the longest wait, stamped with the time of the read', () => {
    expect(liveQueueDatums([{ ccId: 1, vdn: 170, liveQueue: read }], { selection: DEFAULT_METRICS })).toEqual(
      [
        { name: 'CallsWaiting', unit: 'Count', value: 5, timestamp: READ_AT, dimensions: vdn },
        { name: 'LongestWaitTime', unit: 'Seconds', value: 185, timestamp: READ_AT, dimensions: vdn },
      ],
    );
  });

  it('publish per skill only when the skill selection names them, and nothing for an empty queue', () => {
    const datums = liveQueueDatums([{ ccId: 1, vdn: 170, liveQueue: read }], {
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

  it('list an empty queue too for views of every skill', () => {
    const datums = liveQueueDatums([{ ccId: 1, vdn: 170, liveQueue: read }], {
      selection: ALL_METRICS,
      idleSkills: true,
    });
    expect(datums.filter((datum) => datum.dimensions.SkillId === '2').map((datum) => datum.value)).toEqual([
      0, 0,
    ]);
  });

  it('publish nothing for a VDN whose live queue was not read, nor for one with no skill', async () => {
    const missing = liveQueueMissing();
    const none = liveQueueRead(READ_AT, []);
    expect(
      liveQueueDatums(
        [
          { ccId: 1, vdn: 171, liveQueue: missing },
          { ccId: 1, vdn: 172, liveQueue: none },
        ],
        { selection: ALL_METRICS },
      ),
    ).toEqual([]);
  });

  it('order VDNs by call center, then VDN', () => {
    const datums = liveQueueDatums(
      [
        { ccId: 2, vdn: 1, liveQueue: read },
        { ccId: 1, vdn: 9, liveQueue: read },
      ],
      { selection: DEFAULT_METRICS },
    );
    expect(datums.map((datum) => `${datum.dimensions.CcId}/${datum.dimensions.Vdn}`)).toEqual([
      '1/9',
      '1/9',
      '2/1',
      '2/1',
    ]);
  });
});
