import { performance } from 'node:perf_hooks';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CmsClient } from '../lib/cms/client.js';
import { loadCmsSettings } from '../lib/cms/settings.js';
import type { RunSummary } from '../lib/collector/run.js';
import type { Env } from '../lib/config/rules.js';
import { type CollectorHandler, createCollectorHandler } from '../lib/lambda/collector.js';
import { ALL_METRICS, buildDatums } from '../lib/metrics/build-datums.js';
import { CloudWatchSink, planBatches } from '../lib/metrics/cloudwatch.js';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { worldCloudWatch, worldCredentials } from '../test/support/world.js';
import { cleanEnv, resultOf, runChild } from './children.js';
import { quietLog } from './quiet-log.js';
import type { Figure } from './report.js';
import type { BenchServers, ServerCounts } from './servers-client.js';
import { criticalPathMs, expectedCmsCalls, median } from './stats.js';

/**
 * The real collector handler at fleet scale against the CMS simulator and the fake AWS endpoint (both with
 * latency injected, in another process). The yardstick is the critical path: the round trips a collection
 * cannot avoid, each measured alone in the same run.
 */

/** CloudWatchSink's default (lib/metrics/cloudwatch.ts); the run also reports the concurrency it observed. */
const SINK_CONCURRENCY = 8;
const NAMESPACE = 'Bench/SkillQueues';
const REMAINING_MS = 60_000;
const CMS_BATCH = 1_000;

interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly env: Env;
  readonly skillsPerVdn: readonly number[];
}

/**
 * Every metric of every skill: the heaviest work a run can be given (the default publishes two per skill), so
 * the time, memory and batching targets hold for any selection.
 */
const EVERY_METRIC = { SKILL_METRICS: 'all' } as const;

/**
 * The real collector handler for one VDN of skills 1–`skills`, publishing every metric, against the bench's
 * stand-ins; no closing read, so that a run never waits for the window's end in the middle of a measurement.
 */
export function measuredCollector(servers: BenchServers, skills: number): CollectorHandler {
  return createCollectorHandler(
    {
      CMS_BASE_URL: servers.cmsUrl,
      CC_ID: '1',
      VDN: '1',
      SKILL_IDS: `1-${skills}`,
      ...EVERY_METRIC,
      CLOSING_READ_REACH_SECONDS: '0',
    },
    { credentials: worldCredentials(servers), cloudWatch: worldCloudWatch(servers), log: quietLog() },
  );
}

const SCENARIOS: readonly Scenario[] = [
  {
    id: 'oneVdn5000',
    label: '1 VDN × 5,000 skills',
    env: { CC_ID: '1', VDN: '1', SKILL_IDS: '1-5000', ...EVERY_METRIC },
    skillsPerVdn: [5_000],
  },
  {
    id: 'tenVdns1000',
    label: '10 VDNs × 1,000 skills',
    env: {
      CMS_TARGETS: JSON.stringify(
        Array.from({ length: 10 }, (_, index) => ({ ccId: 1, vdn: index + 1, skillIds: '1-1000' })),
      ),
      ...EVERY_METRIC,
    },
    skillsPerVdn: Array.from({ length: 10 }, () => 1_000),
  },
];

interface RunRecord {
  readonly wallMs: number;
  /** CPU this process used during the run (user + system, all threads). */
  readonly cpuMs: number;
  readonly summary: Pick<
    RunSummary,
    'cmsRequests' | 'publishCalls' | 'datums' | 'datumsPublished' | 'skillsReturned' | 'durationMs'
  > & { readonly failures: number; readonly publishFailures: number };
  readonly servers: ServerCounts;
  /** Most PutMetricData calls seen in flight at once. */
  readonly maxPutMetricDataInFlight: number;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly cmsConcurrency: number;
  readonly first: RunRecord;
  readonly warm: readonly RunRecord[];
  readonly cmsRoundTripMs: readonly number[];
  readonly putMetricDataRoundTripMs: readonly number[];
}

interface RssResult {
  readonly afterStartMB: number;
  readonly afterImportMB: number;
  readonly runs: readonly { readonly ms: number; readonly peakMB: number; readonly datums: number }[];
}

export interface CollectorBenchResult {
  readonly scenarios: readonly ScenarioResult[];
  /** Under the V8 limits Lambda's Node.js runtime sets for a 128 MB function. */
  readonly rss: RssResult | { readonly error: string };
  /** Under Node's default limits, for comparison. */
  readonly rssUnconstrained: RssResult | { readonly error: string };
}

/**
 * A CloudWatch client that also counts how many calls it has in flight, to show the sink's concurrency as run
 * rather than as configured.
 */
function countingCloudWatch(servers: BenchServers): {
  client: CloudWatchClient;
  takeMaxInFlight: () => number;
} {
  const client = worldCloudWatch(servers);
  let inFlight = 0;
  let maxInFlight = 0;
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as { send: unknown }).send = async (...args: unknown[]) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return await send(...args);
    } finally {
      inFlight -= 1;
    }
  };
  return {
    client,
    takeMaxInFlight: () => {
      const max = maxInFlight;
      maxInFlight = 0;
      return max;
    },
  };
}

/** One full CMS batch and one full PutMetricData call, each timed alone on warm connections. */
async function measureRoundTrips(
  cms: CmsClient,
  sink: CloudWatchSink,
  batch: readonly Datum[],
  samples: number,
): Promise<{ cms: number[]; putMetricData: number[] }> {
  const skillIds = Array.from({ length: CMS_BATCH }, (_, index) => index + 1);
  const cmsMs: number[] = [];
  const pmdMs: number[] = [];
  for (let sample = 0; sample < samples; sample += 1) {
    let started = performance.now();
    await cms.currentCallStats({ ccId: 1, vdn: 1, skillIds }, { deadline: Date.now() + REMAINING_MS });
    cmsMs.push(performance.now() - started);
    started = performance.now();
    const report = await sink.publish(batch);
    if (report.failures.length > 0) throw new Error(`PutMetricData failed: ${report.failures[0]?.error}`);
    pmdMs.push(performance.now() - started);
  }
  return { cms: cmsMs, putMetricData: pmdMs };
}

/** A full PutMetricData batch of the datums the collector builds for 1,000 skills. */
async function fullBatch(cms: CmsClient): Promise<Datum[]> {
  const skillIds = Array.from({ length: CMS_BATCH }, (_, index) => index + 1);
  const result = await cms.currentCallStats(
    { ccId: 1, vdn: 1, skillIds },
    { deadline: Date.now() + REMAINING_MS },
  );
  const datums = buildDatums([result], { now: Date.now(), selection: ALL_METRICS });
  const [first] = planBatches(datums);
  if (!first || first.length < CMS_BATCH) throw new Error('expected a full batch of datums for 1,000 skills');
  return first;
}

async function runScenario(
  servers: BenchServers,
  scenario: Scenario,
  options: { readonly warmRuns: number; readonly roundTripSamples: number },
): Promise<ScenarioResult> {
  // No closing read: a run must not wait for the window's end in the middle of a measurement.
  const env: Env = { CMS_BASE_URL: servers.cmsUrl, CLOSING_READ_REACH_SECONDS: '0', ...scenario.env };
  const credentials = worldCredentials(servers);
  const cloudWatch = countingCloudWatch(servers);
  const handler = createCollectorHandler(env, {
    credentials,
    cloudWatch: cloudWatch.client,
    log: quietLog(),
  });
  const context = { getRemainingTimeInMillis: () => REMAINING_MS };

  const cms = new CmsClient({ ...loadCmsSettings(env), credentials });
  const sink = new CloudWatchSink({ client: worldCloudWatch(servers), namespace: NAMESPACE });
  const batch = await fullBatch(cms);
  // Warms the sink's connection; its time is not a sample.
  await sink.publish(batch);

  const record = async (): Promise<RunRecord> => {
    await servers.take();
    cloudWatch.takeMaxInFlight();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const summary = await handler({}, context);
    const wallMs = performance.now() - started;
    const cpuUsed = process.cpuUsage(cpu);
    return {
      wallMs,
      cpuMs: (cpuUsed.user + cpuUsed.system) / 1_000,
      summary: {
        cmsRequests: summary.cmsRequests,
        publishCalls: summary.publishCalls,
        datums: summary.datums,
        datumsPublished: summary.datumsPublished,
        skillsReturned: summary.skillsReturned,
        durationMs: summary.durationMs,
        failures: summary.failures.length,
        publishFailures: summary.publishFailures.length,
      },
      servers: await servers.take(),
      maxPutMetricDataInFlight: cloudWatch.takeMaxInFlight(),
    };
  };

  // Round trips are sampled before and after the runs, so a change in the machine's load shows in both.
  const before = await measureRoundTrips(cms, sink, batch, options.roundTripSamples);
  const first = await record();
  const warm: RunRecord[] = [];
  for (let run = 0; run < options.warmRuns; run += 1) warm.push(await record());
  const after = await measureRoundTrips(cms, sink, batch, options.roundTripSamples);
  cms.close();
  await servers.take();
  return {
    scenario,
    cmsConcurrency: loadCmsSettings(env).maxConcurrency,
    first,
    warm,
    cmsRoundTripMs: [...before.cms, ...after.cms],
    putMetricDataRoundTripMs: [...before.putMetricData, ...after.putMetricData],
  };
}

/**
 * Peak RSS of the production collector bundle over 5,000 skills in a process of its own, configured as in
 * Lambda: key pair (and the simulator's CA) from a Secrets Manager secret, metrics to CloudWatch.
 */
async function measureRss(
  servers: BenchServers,
  collectorBundle: string,
  runs: number,
  nodeFlags: readonly string[],
): Promise<RssResult> {
  const secretId = 'bench/cms-credentials';
  await servers.setSecret(
    secretId,
    JSON.stringify({
      accessKey: servers.accessKey,
      secretKey: servers.secretKey,
      caCertificate: servers.caCertificate,
    }),
  );
  const outcome = await runChild(
    [...nodeFlags, new URL('./rss-probe.mjs', import.meta.url).pathname, collectorBundle, String(runs)],
    {
      env: cleanEnv({
        CMS_BASE_URL: servers.cmsUrl,
        CMS_SECRET_ID: secretId,
        CC_ID: '1',
        VDN: '1',
        SKILL_IDS: '1-5000',
        ...EVERY_METRIC,
        METRIC_NAMESPACE: NAMESPACE,
        CLOSING_READ_REACH_SECONDS: '0',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: servers.awsUrl,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_EC2_METADATA_DISABLED: 'true',
        // The probe logs at Lambda's default level; its lines are read for the result only.
        LOG_LEVEL: 'INFO',
      }),
      timeoutMs: 120_000,
    },
  );
  await servers.take();
  return resultOf<RssResult>(outcome);
}

export async function runCollectorBench(
  servers: BenchServers,
  options: {
    readonly warmRuns: number;
    readonly roundTripSamples: number;
    readonly rssRuns: number;
    /** The built collector bundle, or why there is none. */
    readonly collectorBundle: string | { readonly error: string };
  },
): Promise<CollectorBenchResult> {
  const scenarios: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) scenarios.push(await runScenario(servers, scenario, options));
  const rssWith = async (nodeFlags: readonly string[]): Promise<RssResult | { readonly error: string }> => {
    if (typeof options.collectorBundle !== 'string') return options.collectorBundle;
    try {
      return await measureRss(servers, options.collectorBundle, options.rssRuns, nodeFlags);
    } catch (error) {
      return { error: String(error) };
    }
  };
  return { scenarios, rss: await rssWith(LAMBDA_128_MB_V8_FLAGS), rssUnconstrained: await rssWith([]) };
}

/**
 * The heap limits the Lambda Node.js runtime's bootstrap passes to node for a function of 128 MB: a tenth of the
 * memory for the young generation (semi-spaces of half that), the rest for the old generation. Without them V8
 * grows its young generation well past what a 128 MB function would ever let it.
 */
const LAMBDA_128_MB_V8_FLAGS = ['--max-semi-space-size=6', '--max-old-space-size=116'];

function rssFigure(rss: RssResult | { readonly error: string }, label: string, goal: Figure['goal']): Figure {
  const id = `collector.oneVdn5000.${goal ? 'peakRssMB' : 'peakRssUnconstrainedMB'}`;
  const base = { id, label, unit: 'MB', ...(goal ? { goal } : {}) };
  if ('error' in rss) return { ...base, value: Number.NaN, note: rss.error.split('\n')[0] ?? '' };
  return {
    ...base,
    value: Math.max(...rss.runs.map((run) => run.peakMB)),
    note:
      `production bundle, credentials via Secrets Manager; ${rss.afterStartMB.toFixed(0)} MB at start, ` +
      `${rss.afterImportMB.toFixed(0)} MB after import, after each run: ${rss.runs.map((run) => run.peakMB.toFixed(0)).join(', ')} MB`,
  };
}

export function collectorFigures(result: CollectorBenchResult): Figure[] {
  const figures: Figure[] = [];
  for (const outcome of result.scenarios) {
    const { scenario, first, warm } = outcome;
    const id = `collector.${scenario.id}`;
    const wallMs = median(warm.map((run) => run.wallMs));
    const cpuMs = median(warm.map((run) => run.cpuMs));
    const typical = warm[0] ?? first;
    const cmsRoundTrip = median(outcome.cmsRoundTripMs);
    const pmdRoundTrip = median(outcome.putMetricDataRoundTripMs);
    const batches = expectedCmsCalls(scenario.skillsPerVdn, CMS_BATCH);
    const runs = [first, ...warm];
    // Every run must make exactly the calls the batching rules allow; the worst run is the figure.
    const worstCms = Math.max(...runs.map((run) => run.servers.cmsRequests));
    const bestCms = Math.min(...runs.map((run) => run.servers.cmsRequests));
    const liveQueueCalls = new Set(runs.map((run) => run.servers.liveQueueRequests));
    const pmdExcess = runs.map(
      (run) => run.servers.putMetricDataCalls - Math.ceil(run.summary.datums / 1_000),
    );
    const bound = criticalPathMs({
      // Each batch of skills is asked for twice: its counters and its live queue.
      cmsBatches: 2 * batches,
      cmsConcurrency: outcome.cmsConcurrency,
      cmsRoundTripMs: cmsRoundTrip,
      putMetricDataCalls: typical.servers.putMetricDataCalls,
      sinkConcurrency: SINK_CONCURRENCY,
      putMetricDataRoundTripMs: pmdRoundTrip,
    });
    const failures = runs.reduce((sum, run) => sum + run.summary.failures + run.summary.publishFailures, 0);
    figures.push(
      {
        id: `${id}.wallMs`,
        label: `collector ${scenario.label}: wall time (warm, median)`,
        value: wallMs,
        unit: 'ms',
        note:
          `first run ${first.wallMs.toFixed(0)} ms; warm runs ${warm.map((run) => run.wallMs.toFixed(0)).join(', ')} ms; ` +
          `${typical.summary.datums} datums, ${typical.summary.skillsReturned} skills returned` +
          (failures > 0 ? `; ${failures} failures reported` : ''),
      },
      {
        id: `${id}.cmsCalls`,
        label: `collector ${scenario.label}: CMS requests per run`,
        value: bestCms === worstCms ? worstCms : Number.NaN,
        unit: '',
        goal: { op: '==', value: batches },
        ...(bestCms === worstCms ? {} : { note: `runs differ: ${bestCms} to ${worstCms}` }),
      },
      {
        id: `${id}.liveQueueCalls`,
        label: `collector ${scenario.label}: live-queue requests per run`,
        value: liveQueueCalls.size === 1 ? ([...liveQueueCalls][0] ?? Number.NaN) : Number.NaN,
        unit: '',
        goal: { op: '==', value: batches },
        ...(liveQueueCalls.size === 1 ? {} : { note: `runs differ: ${[...liveQueueCalls].join(', ')}` }),
      },
      {
        id: `${id}.putMetricDataCalls`,
        label: `collector ${scenario.label}: PutMetricData calls − ⌈datums/1000⌉`,
        value: Math.max(...pmdExcess.map(Math.abs)),
        unit: '',
        goal: { op: '==', value: 0 },
        note: `${typical.servers.putMetricDataCalls} calls for ${typical.summary.datums} datums (largest call ${typical.servers.putMetricDataMaxDatums}); at most ${Math.max(...runs.map((run) => run.maxPutMetricDataInFlight))} in flight`,
      },
      {
        id: `${id}.cpuMs`,
        label: `collector ${scenario.label}: CPU per run (warm, median)`,
        value: cpuMs,
        unit: 'ms',
        note:
          `${((cpuMs * 1_000) / typical.summary.datums).toFixed(1)} µs per datum; CPU is ${((100 * cpuMs) / wallMs).toFixed(0)}% of the wall time ` +
          `(the stand-in servers used ${median(warm.map((run) => run.servers.cpuMs)).toFixed(0)} ms in their own process)`,
      },
      {
        id: `${id}.criticalPathRatio`,
        label: `collector ${scenario.label}: wall time / critical path`,
        value: wallMs / bound,
        unit: '×',
        goal: { op: '<=', value: 1.5 },
        note:
          `bound ${bound.toFixed(0)} ms = ⌈${2 * batches}/${outcome.cmsConcurrency}⌉ × CMS ${cmsRoundTrip.toFixed(1)} ms + ` +
          `⌈${typical.servers.putMetricDataCalls}/${SINK_CONCURRENCY}⌉ × PutMetricData ${pmdRoundTrip.toFixed(1)} ms (medians of ${outcome.cmsRoundTripMs.length} lone calls)`,
      },
    );
  }
  figures.push(
    rssFigure(result.rss, 'collector 5,000 skills: peak RSS as a 128 MB Lambda runs it', {
      op: '<=',
      value: 128,
    }),
    rssFigure(result.rssUnconstrained, 'collector 5,000 skills: peak RSS with V8 unconstrained', undefined),
  );
  return figures;
}
