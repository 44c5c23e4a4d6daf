import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { loadWallboardConfig } from '../lib/lambda/wallboard.js';

const BASE = { CC_ID: '1', VDN: '170', SKILL_IDS: '1-20' };

describe('wallboard configuration', () => {
  it('takes the query API’s cache and time budget, and its own row cap', () => {
    const settings = loadWallboardConfig({
      ...BASE,
      QUERY_CACHE_SECONDS: '7',
      QUERY_TIMEOUT_MS: '9000',
      WALLBOARD_MAX_ROWS: '30',
    });
    expect(settings).toMatchObject({ cacheTtlMs: 7_000, timeoutMs: 9_000, maxRows: 30 });
    expect(settings.targets).toHaveLength(1);
    expect(settings.namespace).toBe('HuaweiCEC/SkillQueues');
  });

  it('names WALLBOARD_MAX_ROWS when it is out of range', () => {
    expect(() => loadWallboardConfig({ ...BASE, WALLBOARD_MAX_ROWS: '0' })).toThrow(
      /^WALLBOARD_MAX_ROWS: must be between 1 and 500/,
    );
  });

  it('names WALLBOARD_THRESHOLDS when it is malformed', () => {
    expect(() => loadWallboardConfig({ ...BASE, WALLBOARD_THRESHOLDS: '[{"ccId":1}]' })).toThrow(ConfigError);
    expect(() => loadWallboardConfig({ ...BASE, WALLBOARD_THRESHOLDS: '[{"ccId":1}]' })).toThrow(
      /^WALLBOARD_THRESHOLDS: /,
    );
  });

  it('names METRIC_NAMESPACE when it is not a custom namespace', () => {
    expect(() => loadWallboardConfig({ ...BASE, METRIC_NAMESPACE: 'AWS/Lambda' })).toThrow(
      /^METRIC_NAMESPACE: /,
    );
  });
});
