import { performance } from 'node:perf_hooks';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CmsClient } from '../lib/cms/client.js';
import { loadCmsSettings } from '../lib/cms/settings.js';
import { ALL_METRICS, buildDatums } from '../lib/metrics/build-datums.js';
import { toMetricDatum } from '../lib/metrics/cloudwatch.js';
import type { SkillStats } from '../lib/model.js';
import { readOf } from '../test/support/vdn-read.js';
import { worldCloudWatch, worldCredentials } from '../test/support/world.js';
import { measuredCollector } from './collector.js';
import type { Figure } from './report.js';
import type { BenchServers } from './servers-client.js';
import { extrapolate, median } from './stats.js';

/**
 * What the collector saves over the script anyone would write first: one CMS request per skill and one
 * PutMetricData call per datum, one after the other. The script uses the product's own CMS client, signer and
 * KPI code, so the comparison is about the I/O pattern alone. It is timed on a subset of the skills and scaled
 * up: its cost is a fixed price per skill (CMS) and per datum (PutMetricData).
 */

const NAMESPACE = 'Bench/SkillQueues';
const REMAINING_MS = 60_000;

export interface NaiveResult {
  readonly skills: number;
  readonly subset: number;
  readonly naive: {
    readonly cmsPhaseMs: number;
    readonly publishPhaseMs: number;
    readonly cmsCalls: number;
    readonly datums: number;
  };
  readonly ours: {
    readonly wallMs: readonly number[];
    readonly cmsCalls: number;
    readonly putMetricDataCalls: number;
    readonly datums: number;
  };
}

async function naiveRun(servers: BenchServers, subset: number): Promise<NaiveResult['naive']> {
  const cms = new CmsClient({
    ...loadCmsSettings({ CMS_BASE_URL: servers.cmsUrl }),
    credentials: worldCredentials(servers),
  });
  const cloudWatch = worldCloudWatch(servers);
  const deadline = () => ({ deadline: Date.now() + REMAINING_MS });
  try {
    // Both connections are opened before timing: the collector it is compared with runs warm too.
    await cms.currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, deadline());
    await servers.take();

    let started = performance.now();
    const skills: SkillStats[] = [];
    for (let skillId = 1; skillId <= subset; skillId += 1) {
      const result = await cms.currentCallStats({ ccId: 1, vdn: 1, skillIds: [skillId] }, deadline());
      skills.push(...result.skills);
    }
    const cmsPhaseMs = performance.now() - started;

    const target = { ccId: 1, vdn: 1, skillIds: skills.map((skill) => skill.skillId) };
    const datums = buildDatums([readOf(target, { skills })], { now: Date.now(), selection: ALL_METRICS });
    const [first] = datums;
    if (first) {
      await cloudWatch.send(
        new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: [toMetricDatum(first)] }),
      );
    }
    started = performance.now();
    for (const datum of datums) {
      await cloudWatch.send(
        new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: [toMetricDatum(datum)] }),
      );
    }
    const publishPhaseMs = performance.now() - started;
    const counts = await servers.take();
    return { cmsPhaseMs, publishPhaseMs, cmsCalls: counts.cmsRequests, datums: datums.length };
  } finally {
    cms.close();
    cloudWatch.destroy();
  }
}

async function oursRun(servers: BenchServers, skills: number, runs: number): Promise<NaiveResult['ours']> {
  const handler = measuredCollector(servers, skills);
  const context = { getRemainingTimeInMillis: () => REMAINING_MS };
  await handler({}, context);
  const wallMs: number[] = [];
  let last = { cmsCalls: 0, putMetricDataCalls: 0, datums: 0 };
  for (let run = 0; run < runs; run += 1) {
    await servers.take();
    const started = performance.now();
    const summary = await handler({}, context);
    wallMs.push(performance.now() - started);
    const counts = await servers.take();
    last = {
      // Its counters and its live queue: every call ours makes to CMS.
      cmsCalls: counts.cmsRequests + counts.liveQueueRequests,
      putMetricDataCalls: counts.putMetricDataCalls,
      datums: summary.datums,
    };
  }
  return { wallMs, ...last };
}

export async function runNaiveBench(
  servers: BenchServers,
  options: { readonly skills: number; readonly subset: number; readonly oursRuns: number },
): Promise<NaiveResult> {
  const ours = await oursRun(servers, options.skills, options.oursRuns);
  const naive = await naiveRun(servers, options.subset);
  return { skills: options.skills, subset: options.subset, naive, ours };
}

export function naiveFigures(result: NaiveResult): Figure[] {
  const { naive, ours, skills, subset } = result;
  // CMS time scales with skills; publishing time with datums, of which the full run has as many as ours.
  const naiveMs =
    extrapolate(naive.cmsPhaseMs, subset, skills) +
    extrapolate(naive.publishPhaseMs, naive.datums, ours.datums);
  const naiveCalls = skills + ours.datums;
  const oursCalls = ours.cmsCalls + ours.putMetricDataCalls;
  const oursMs = median(ours.wallMs);
  const scaled = subset < skills;
  return [
    {
      id: 'naive.oursWallMs',
      label: `${skills} skills: collector wall time (warm, median)`,
      value: oursMs,
      unit: 'ms',
      note: `${ours.cmsCalls} CMS + ${ours.putMetricDataCalls} PutMetricData calls for ${ours.datums} datums`,
    },
    {
      id: 'naive.naiveWallMs',
      label: `${skills} skills: one call per skill and per datum${scaled ? ' (scaled)' : ''}`,
      value: naiveMs,
      unit: 'ms',
      note: scaled
        ? `timed on ${subset} skills (CMS ${naive.cmsPhaseMs.toFixed(0)} ms, ${naive.datums} PutMetricData calls ${naive.publishPhaseMs.toFixed(0)} ms), scaled linearly: CMS by skills, publishing by datums`
        : `CMS ${naive.cmsPhaseMs.toFixed(0)} ms, publishing ${naive.publishPhaseMs.toFixed(0)} ms`,
    },
    {
      id: 'naive.wallRatio',
      label: `${skills} skills: naive wall time / collector`,
      value: naiveMs / oursMs,
      unit: '×',
    },
    {
      id: 'naive.callRatio',
      label: `${skills} skills: naive API calls / collector`,
      value: naiveCalls / oursCalls,
      unit: '×',
      note: `${naiveCalls} calls (${skills} CMS + ${ours.datums} PutMetricData) against ${oursCalls}`,
    },
  ];
}
