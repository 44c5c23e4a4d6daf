import { describe, expect, it } from 'vitest';
import { createStatsLookup } from '../lib/api/stats.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import { failedRead } from '../lib/cms/vdn-read.js';
import { CmsTimeoutError, SecretError } from '../lib/errors.js';
import type { Log } from '../lib/log.js';
import { createWallboard, type HealthSource } from '../lib/wallboard/service.js';
import { parseThresholds } from '../lib/wallboard/thresholds.js';
import type { TodaySource } from '../lib/wallboard/today.js';

const TARGETS = [{ ccId: 1, vdn: 170, skillIds: [1, 2] }];

function recordingLog(): Log & { lines: { level: string; message: string; fields: unknown }[] } {
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const at =
    (level: string) =>
    (message: string, ...fields: Record<string, unknown>[]) =>
      lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const health: HealthSource = { read: async () => ({ kind: 'silent', sinceMinutes: 15 }) };
const today: TodaySource = { read: async () => ({ kind: 'unavailable', reason: 'not in this test' }) };
const CONFIG = {
  targets: TARGETS,
  thresholds: parseThresholds(undefined),
  maxRows: 50,
  timeoutMs: 1_000,
  timeZone: 'UTC',
};

function wallboardWith(cms: StatsSource, log = recordingLog()) {
  const stats = createStatsLookup({ cacheTtlMs: 5_000, timeoutMs: 1_000 }, { cms, now: Date.now });
  const render = createWallboard(CONFIG, { stats, health, today, log, now: Date.now });
  return { render, log };
}

const failing = (error: Error): StatsSource => ({
  currentCallStats: async (target) => failedRead(target, error),
});

describe('the wallboard service', () => {
  it('shows a CMS timeout as the failure panel with the request id its log line carries', async () => {
    const { render, log } = wallboardWith(
      failing(new CmsTimeoutError('no answer from 10.0.0.5:28443 in 5 s')),
    );
    const page = await render({ ccId: 1, vdn: 170 }, { remainingMs: 10_000, requestId: 'req-1' });
    expect(page).toContain('data-state="failed"');
    expect(page).toContain('CC-CMS did not answer in time');
    expect(page).toContain('CMS_TIMEOUT · request id req-1');
    // The error's own message names an internal address: for the log only.
    expect(page).not.toContain('10.0.0.5');
    const errors = JSON.stringify(log.lines.filter((line) => line.level === 'error'));
    expect(errors).toContain('"requestId":"req-1"');
    expect(errors).toContain('10.0.0.5');
  });

  it('never shows why the CMS secret could not be read: that is for the operator’s log', async () => {
    const secretDetail = 'secret prod/cms has no field secretKey (value AKIA-EXAMPLE)';
    const cms: StatsSource = {
      currentCallStats: async () => {
        throw new SecretError(secretDetail);
      },
    };
    const { render, log } = wallboardWith(cms);
    const page = await render({ ccId: 1, vdn: 170 }, { remainingMs: 10_000, requestId: 'req-1' });
    expect(page).toContain('data-state="failed"');
    expect(page).toContain('the credentials for CC-CMS could not be loaded');
    expect(page).not.toContain('AKIA-EXAMPLE');
    expect(JSON.stringify(log.lines)).toContain('has no field secretKey');
  });

  it('shows a bug behind the CMS read as a failure panel without its details', async () => {
    const cms: StatsSource = {
      currentCallStats: async () => {
        throw new TypeError('cannot read properties of undefined (internal detail)');
      },
    };
    const { render } = wallboardWith(cms);
    const page = await render({ ccId: 1, vdn: 170 }, { remainingMs: 10_000, requestId: 'req-1' });
    expect(page).toContain('data-state="failed"');
    expect(page).toContain('because of an internal error');
    expect(page).not.toContain('internal detail');
  });

  it('answers with a problem panel instead of throwing when anything else breaks', async () => {
    const log = recordingLog();
    const stats = createStatsLookup(
      { cacheTtlMs: 0, timeoutMs: 1_000 },
      { cms: failing(new Error('x')), now: Date.now },
    );
    const render = createWallboard(CONFIG, {
      stats,
      health: { read: () => Promise.reject(new Error('health broke: internal detail')) },
      today,
      log,
      now: Date.now,
    });
    const page = await render({ ccId: 1, vdn: 170 }, { remainingMs: 10_000, requestId: 'req-1' });
    expect(page).toContain('data-state="problem"');
    expect(page).not.toContain('internal detail');
    expect(log.lines.map((line) => line.message)).toContain('wallboard failed');
  });
});
