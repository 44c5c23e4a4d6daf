import { describe, expect, it } from 'vitest';
import { rotation } from './cold-start.js';
import { countVerdicts, type Figure, formatTable, verdictOf } from './report.js';

const figure = (value: number, goal?: Figure['goal']): Figure => ({
  id: 'x',
  label: 'a figure',
  value,
  unit: 'ms',
  ...(goal ? { goal } : {}),
});

describe('verdictOf', () => {
  it('passes a value on the bound of an upper limit', () => {
    expect(verdictOf(figure(1.2, { op: '<=', value: 1.2 }))).toBe('PASS');
  });

  it('fails a value above an upper limit', () => {
    expect(verdictOf(figure(1.2001, { op: '<=', value: 1.2 }))).toBe('FAIL');
  });

  it('passes an exact count only when it is exactly that count', () => {
    expect(verdictOf(figure(5, { op: '==', value: 5 }))).toBe('PASS');
    expect(verdictOf(figure(6, { op: '==', value: 5 }))).toBe('FAIL');
  });

  it('calls a figure without a target information', () => {
    expect(verdictOf(figure(3))).toBe('INFO');
  });

  it('calls a figure that could not be measured an error, whatever its target', () => {
    expect(verdictOf(figure(Number.NaN, { op: '<=', value: 1 }))).toBe('ERROR');
    expect(verdictOf(figure(Number.POSITIVE_INFINITY))).toBe('ERROR');
  });
});

describe('formatTable', () => {
  it('shows every figure with its value, target and verdict, and its note beneath it', () => {
    const table = formatTable([
      { ...figure(1.25, { op: '<=', value: 1.2 }), label: 'import ratio', unit: '×', note: 'why' },
      { ...figure(42), label: 'wall time' },
    ]);
    const lines = table.split('\n');
    expect(lines[2]).toMatch(/^import ratio\s+1\.250×\s+≤ 1\.200×\s+FAIL$/);
    expect(lines[3]).toBe('    why');
    expect(lines[4]).toMatch(/^wall time\s+42 ms\s+INFO$/);
  });
});

describe('countVerdicts', () => {
  it('counts each verdict', () => {
    const counts = countVerdicts([
      figure(1, { op: '<=', value: 2 }),
      figure(3, { op: '<=', value: 2 }),
      figure(Number.NaN),
      figure(1),
    ]);
    expect(counts).toEqual({ PASS: 1, FAIL: 1, ERROR: 1, INFO: 1 });
  });
});

describe('rotation', () => {
  it('puts every bundle first exactly once in as many rounds as there are bundles', () => {
    const names = ['floor', 'collector', 'query'];
    const leaders = names.map((_, round) => rotation(names, round)[0]);
    expect(new Set(leaders)).toEqual(new Set(names));
  });

  it('runs every bundle in every round', () => {
    for (let round = 0; round < 7; round += 1) {
      expect([...rotation(['a', 'b', 'c'], round)].sort()).toEqual(['a', 'b', 'c']);
    }
  });
});
