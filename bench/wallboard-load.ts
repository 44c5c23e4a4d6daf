import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers/promises';
import type { Env } from '../lib/config.js';
import { createWallboardHandler } from '../lib/lambda/wallboard.js';
import { HealthRecorder } from '../lib/wallboard/health.js';
import { TodayRecorder } from '../lib/wallboard/today.js';
import { worldCredentials } from '../test/support/world.js';
import { quietLog } from './quiet-log.js';
import type { Figure } from './report.js';
import type { BenchServers } from './servers-client.js';
import { maxCachedCmsCalls, median } from './stats.js';

/**
 * Many supervisors keeping the dashboard open: every viewer's widget invokes the wallboard function on every
 * refresh. One wallboard container (one process) serves them all here, refreshing far faster than a dashboard
 * can (every second, against CloudWatch's 10 s minimum), and the simulator counts what reaches CMS.
 */

export interface WallboardLoadPlan {
  readonly viewers: number;
  readonly vdns: number;
  readonly skillsPerVdn: number;
  readonly refreshMs: number;
  readonly durationMs: number;
  readonly cacheSeconds: number;
}

export interface WallboardLoadResult {
  readonly plan: WallboardLoadPlan;
  readonly renders: number;
  readonly failedRenders: number;
  readonly renderMs: readonly number[];
  readonly cmsRequests: number;
  readonly elapsedMs: number;
}

export async function runWallboardLoad(
  servers: BenchServers,
  plan: WallboardLoadPlan,
): Promise<WallboardLoadResult> {
  const targets = Array.from({ length: plan.vdns }, (_, index) => ({
    ccId: 1,
    vdn: 170 + index,
    skillIds: `1-${plan.skillsPerVdn}`,
  }));
  const env: Env = {
    CMS_BASE_URL: servers.cmsUrl,
    CMS_TARGETS: JSON.stringify(targets),
    QUERY_CACHE_SECONDS: String(plan.cacheSeconds),
  };
  const handler = createWallboardHandler(env, {
    credentials: worldCredentials(servers),
    log: quietLog(),
    health: new HealthRecorder(),
    today: new TodayRecorder(),
  });
  const context = { getRemainingTimeInMillis: () => 25_000 };
  const renderMs: number[] = [];
  let failedRenders = 0;
  await servers.take();
  const started = performance.now();
  const stopAt = started + plan.durationMs;
  const viewer = async (index: number) => {
    const target = targets[index % targets.length];
    const event = { ccId: target?.ccId, vdn: target?.vdn, widgetContext: { params: {} } };
    // Viewers opened the dashboard at different moments: their refreshes are spread over the period.
    await setTimeout((index * plan.refreshMs) / plan.viewers);
    while (performance.now() < stopAt) {
      const before = performance.now();
      const page = await handler(event, context);
      renderMs.push(performance.now() - before);
      if (!page.includes('data-total="vdn"')) failedRenders += 1;
      await setTimeout(Math.max(0, plan.refreshMs - (performance.now() - before)));
    }
  };
  await Promise.all(Array.from({ length: plan.viewers }, (_, index) => viewer(index)));
  const elapsedMs = performance.now() - started;
  const counts = await servers.take();
  return {
    plan,
    renders: renderMs.length,
    failedRenders,
    renderMs,
    cmsRequests: counts.cmsRequests,
    elapsedMs,
  };
}

export function wallboardFigures(result: WallboardLoadResult): Figure[] {
  const { plan } = result;
  const bound = plan.vdns * maxCachedCmsCalls(1, result.elapsedMs, plan.cacheSeconds * 1_000);
  const setting = `${plan.viewers} viewers × 1 refresh per ${plan.refreshMs / 1_000} s for ${Math.round(result.elapsedMs / 1_000)} s, ${plan.vdns} VDNs of ${plan.skillsPerVdn} skills`;
  return [
    {
      id: 'wallboard.cmsRequests',
      label: `wallboard, ${setting}: CMS requests`,
      value: result.cmsRequests,
      unit: '',
      goal: { op: '<=', value: bound },
      note: `${result.renders} renders (${result.failedRenders} without data), one container, QUERY_CACHE_SECONDS=${plan.cacheSeconds}; the stack caps containers at wallboardReservedConcurrency`,
    },
    {
      id: 'wallboard.renderP50Ms',
      label: `wallboard, ${setting}: render time (median)`,
      value: median(result.renderMs),
      unit: 'ms',
    },
  ];
}
