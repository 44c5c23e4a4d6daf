import { describe, expect, it } from 'vitest';
import { type CpuProfile, sourceOf, summarizeProfile } from './profile-summary.js';

const ROOT = '/repo';
const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

/** root → run (lib/collector.ts) → serialize (@smithy/core) → serialize again (recursion), and idle. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
    { id: 2, callFrame: frame('run', 'file:///repo/lib/collector.ts'), children: [3] },
    { id: 3, callFrame: frame('serialize', '/repo/node_modules/@smithy/core/dist/index.js'), children: [4] },
    { id: 4, callFrame: frame('serialize', '/repo/node_modules/@smithy/core/dist/index.js') },
    { id: 5, callFrame: frame('(idle)', '') },
  ],
  samples: [2, 3, 4, 4, 5],
  timeDeltas: [1_000, 2_000, 3_000, 4_000, 10_000],
};

describe('summarizeProfile', () => {
  it('separates idle time from busy time', () => {
    const summary = summarizeProfile(profile, ROOT);
    expect(summary.idleMs).toBe(10);
    expect(summary.busyMs).toBe(10);
  });

  it('adds up the self time of a function over every path it was called by, largest first', () => {
    expect(summarizeProfile(profile, ROOT).selfByFunction).toEqual([
      { name: 'serialize', where: '@smithy/core', ms: 9 },
      { name: 'run', where: 'lib/collector.ts', ms: 1 },
    ]);
  });

  it('counts a source once per sample in its inclusive time, however deep it recurs', () => {
    expect(summarizeProfile(profile, ROOT).inclusiveBySource).toEqual([
      { source: 'lib/collector.ts', ms: 10 },
      { source: '@smithy/core', ms: 9 },
    ]);
  });

  it('keeps only the requested number of entries', () => {
    expect(summarizeProfile(profile, ROOT, 1).selfByFunction).toHaveLength(1);
  });
});

describe('sourceOf', () => {
  it('names a dependency by its package, scoped or not', () => {
    expect(sourceOf('file:///repo/node_modules/@aws-sdk/core/x.js', ROOT)).toBe('@aws-sdk/core');
    expect(sourceOf('/repo/node_modules/valibot/dist/index.js', ROOT)).toBe('valibot');
  });

  it('names our own files by their path in the repository', () => {
    expect(sourceOf('file:///repo/lib/metrics/cloudwatch.ts', ROOT)).toBe('lib/metrics/cloudwatch.ts');
  });

  it('leaves Node internals and native frames unnamed', () => {
    expect(sourceOf('node:zlib', ROOT)).toBeUndefined();
    expect(sourceOf('', ROOT)).toBeUndefined();
  });
});
