import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import type { WallboardHandler } from '../lib/lambda/wallboard.js';
import type { Log } from '../lib/log.js';
import type { CmsSimulator } from '../local/simulator/index.js';
import { bundleOptions } from '../scripts/bundle-options.mjs';
import { startWorld, useWorldAws, type World } from './support/world.js';

/**
 * The production bundle of the wallboard (dist/wallboard/index.mjs as `npm run build` makes it), invoked the way
 * a CloudWatch dashboard invokes a custom widget, with the real CMS client against the simulator over TLS and
 * the real CloudWatch and Secrets Manager clients against the fake AWS endpoint.
 */

const SECRET_ID = 'prod/cms-skill-metrics';
const NAMESPACE = 'Test/SkillQueues';
const TARGETS = [
  { ccId: 1, vdn: 170, skillIds: '1-20' },
  { ccId: 1, vdn: 171, skillIds: '30-34' },
  // Each read by one test only, so that no other test's answer sits in the cache when it asks.
  { ccId: 1, vdn: 172, skillIds: '40-42' },
  { ccId: 1, vdn: 173, skillIds: '50-52' },
];

let world: World;
let simulator: CmsSimulator;
let workDir: string;
let handler: WallboardHandler;
let restoreEnv: () => void;
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const context = { getRemainingTimeInMillis: () => 10_000, awsRequestId: 'widget-request-1' };

/** An event as the CloudWatch console sends it for a widget with params {ccId, vdn}. */
function widgetEvent(params: Record<string, unknown>) {
  return {
    ...params,
    widgetContext: {
      dashboardName: 'cms-skill-metrics-prod',
      widgetId: 'widget-3',
      accountId: '123456789012',
      locale: 'en',
      timezone: { label: 'UTC', offsetISO: '+00:00', offsetInMinutes: 0 },
      period: 300,
      isAutoPeriod: true,
      timeRange: {
        mode: 'relative',
        start: Date.now() - 3 * 3_600_000,
        end: Date.now(),
        relativeStart: 10_800_000,
      },
      theme: 'light',
      linkCharts: true,
      title: 'VDN 170 wallboard',
      forms: { all: {} },
      params,
      width: 1150,
      height: 600,
    },
  };
}

beforeAll(async () => {
  world = await startWorld({ simulator: { absentSkillIds: [7] } });
  ({ simulator } = world);
  const { accessKey, secretKey, caCertificate } = world;
  world.aws.setSecret(SECRET_ID, JSON.stringify({ accessKey, secretKey, caCertificate }));
  restoreEnv = useWorldAws(world);
  const env = {
    CMS_BASE_URL: simulator.url,
    CMS_SECRET_ID: SECRET_ID,
    CMS_TARGETS: JSON.stringify(TARGETS),
    METRIC_NAMESPACE: NAMESPACE,
    // Longer than the whole file takes: no test depends on an answer expiring, or on one not expiring in time.
    QUERY_CACHE_SECONDS: '300',
    // The collector run that publishes health must not wait for a window's closing read.
    CLOSING_READ_REACH_SECONDS: '0',
    LOG_LEVEL: 'SILENT',
  };
  Object.assign(process.env, env);
  // The collector publishes the health metrics the wallboard reads back.
  await createCollectorHandler(env, { log: silentLog })({}, context);
  workDir = await mkdtemp(join(tmpdir(), 'wallboard-bundle-'));
  const outfile = join(workDir, 'wallboard', 'index.mjs');
  await build(bundleOptions({ entry: 'handlers/wallboard.ts', outfile }));
  ({ handler } = (await import(pathToFileURL(outfile).href)) as { handler: WallboardHandler });
});

afterAll(async () => {
  restoreEnv?.();
  await Promise.all([world?.close(), workDir && rm(workDir, { recursive: true, force: true })]);
});

afterEach(() => simulator.clearFaults());

describe('the wallboard custom widget bundle', () => {
  it('answers the describe event with Markdown documentation of its parameters', async () => {
    const docs = await handler({ describe: true, widgetContext: { params: {} } }, context);
    expect(docs).toMatch(/^## Skill-queue wallboard/);
    expect(docs).toContain('vdn: 170');
  });

  it('renders every configured skill of the VDN, its total, its day so far and the collector’s health', async () => {
    const page = await handler(widgetEvent({ ccId: 1, vdn: 170 }), context);
    const skills = [...page.matchAll(/<tr data-skill="(\d+)"/g)].map((match) => Number(match[1]));
    expect(skills.sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ]);
    expect(page).toContain('Not returned by CMS: skill 7.');
    expect(page).toContain('data-total="vdn"');
    expect(page).toMatch(/data-health="(green|amber)"/);
    expect(page).toContain('collecting');
    // Read back from the counters the collector run above published for the VDN.
    expect(page).toContain('<th>Today since 00:00 UTC</th>');
    expect(page).toMatch(/<tr data-today="(?:red|amber|green|low|idle)"><td>VDN 170<\/td>/);
    expect(page).not.toMatch(/<script|javascript:/i);
  });

  it('reads the parameters from widgetContext.params too, and caps the rows it is asked to', async () => {
    const page = await handler({ widgetContext: { params: { ccId: '1', vdn: '171', maxRows: 2 } } }, context);
    expect(page).toContain('data-vdn="171"');
    expect([...page.matchAll(/<tr data-skill=/g)]).toHaveLength(2);
    expect(page).toContain('data-hidden="3"');
  });

  it('shows a VDN this deployment does not serve as a problem panel, not an error', async () => {
    const page = await handler(widgetEvent({ ccId: 1, vdn: 999 }), context);
    expect(page).toContain('data-state="problem"');
    expect(page).toContain('Not served here');
  });

  it('names a malformed parameter', async () => {
    const page = await handler(widgetEvent({ ccId: 1, vdn: 'seventy' }), context);
    expect(page).toContain('data-state="problem"');
    expect(page).toContain('vdn: must be an integer');
  });

  it('shows a clear panel instead of the skill table when CMS fails, with CMS’s text escaped', async () => {
    simulator.inject(
      { kind: 'resultCode', code: '0200099', desc: '<b>busy</b>' },
      { times: Number.POSITIVE_INFINITY },
    );
    const page = await handler(widgetEvent({ ccId: 1, vdn: 172 }), context);
    expect(page).toContain('data-state="failed"');
    expect(page).not.toContain('data-skill=');
    expect(page).not.toContain('<b>busy');
    expect(page).toContain('request id widget-request-1');
  });

  it('costs CMS one call per VDN per cache period however many viewers refresh at once', async () => {
    const before = simulator.requests.length;
    const viewers = Array.from({ length: 100 }, () => handler(widgetEvent({ ccId: 1, vdn: 173 }), context));
    const pages = await Promise.all(viewers);
    expect(pages.every((page) => page.includes('data-total="vdn"'))).toBe(true);
    // One read: a call for the counters and one for the live queue.
    const endpoints = () => simulator.requests.slice(before).map((request) => request.endpoint);
    expect(endpoints().sort()).toEqual(['currentcallstateinfo', 'totalskillstatusex3']);
    await handler(widgetEvent({ ccId: 1, vdn: 173 }), context);
    expect(endpoints()).toHaveLength(2);
  });
});

describe('a tenant’s wallboard bundle, configured with VDN 170 alone', () => {
  let tenantHandler: WallboardHandler;

  beforeAll(async () => {
    const outfile = join(workDir, 'tenant-wallboard', 'index.mjs');
    await build(bundleOptions({ entry: 'handlers/wallboard.ts', outfile }));
    const shared = process.env.CMS_TARGETS;
    process.env.CMS_TARGETS = JSON.stringify(TARGETS.filter((target) => target.vdn === 170));
    try {
      ({ handler: tenantHandler } = (await import(pathToFileURL(outfile).href)) as {
        handler: WallboardHandler;
      });
    } finally {
      process.env.CMS_TARGETS = shared;
    }
  });

  /** Every way a widget's params can name VDN 171 of call center 1. */
  const ASKING_FOR_171: readonly [string, Record<string, unknown>][] = [
    ['numbers', widgetEvent({ ccId: 1, vdn: 171 })],
    ['strings', widgetEvent({ ccId: '1', vdn: '171' })],
    ['padded strings', { ccId: ' 1 ', vdn: ' 171 ' }],
    ['a leading zero', { ccId: 1, vdn: '0171' }],
    ['widgetContext.params alone', { widgetContext: { params: { ccId: 1, vdn: 171 } } }],
    ['widgetContext.params as strings', { widgetContext: { params: { ccId: '1', vdn: '171' } } }],
    ['the VDN in widgetContext.params only', { ccId: 1, widgetContext: { params: { vdn: 171 } } }],
  ];

  it('draws VDN 170, which it serves', async () => {
    const page = await tenantHandler(widgetEvent({ ccId: 1, vdn: 170 }), context);
    expect(page).toContain('data-vdn="170"');
    expect(page).toContain('data-total="vdn"');
  });

  it.each(ASKING_FOR_171)(
    'asked for VDN 171 with %s, shows a plain "not served here" panel without a figure of any VDN',
    async (_, event) => {
      const cmsRequests = simulator.requests.length;
      const awsAttempts = world.aws.attempts.length;
      const page = await tenantHandler(event, context);

      expect(page).toContain('data-state="problem"');
      expect(page).toContain('Not served here');
      expect(page).not.toMatch(/<table|data-skill|data-total|data-vdn|data-health/);
      // The text a viewer reads names no VDN and holds no figure at all.
      const text = page.replace(/<style>[\s\S]*?<\/style>/g, '').replace(/<[^>]*>/g, ' ');
      expect(text.replace('request id widget-request-1', '')).not.toMatch(/\d/);
      // Nothing about VDN 171 was asked of CMS or CloudWatch.
      expect(simulator.requests.slice(cmsRequests)).toEqual([]);
      expect(world.aws.attempts.slice(awsAttempts)).toEqual([]);
    },
  );
});
