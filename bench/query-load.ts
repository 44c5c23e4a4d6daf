import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { statsPath } from '../lib/api/route.js';
import { CmsClient } from '../lib/cms/client.js';
import { loadCmsSettings } from '../lib/cms/settings.js';
import type { Env } from '../lib/config/rules.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import { startApiServer } from '../local/api-server.js';
import { worldCredentials } from '../test/support/world.js';
import { cleanEnv, spawnTsxWithIpc } from './children.js';
import type { LoadMessage, LoadPlan, LoadResult } from './load-protocol.js';
import { quietLog } from './quiet-log.js';
import type { Figure } from './report.js';
import type { BenchServers, ServerCounts } from './servers-client.js';
import { maxCachedCmsCalls, median } from './stats.js';

/**
 * The real query handler behind the local API Gateway stand-in, under load from another process, with CMS
 * answering after the injected latency. What is judged: the latency the API adds, that nothing fails, and that
 * a crowd asking the same questions reaches CMS at most once per question and cache period. A crowd asking one
 * question is a closed loop (clients asking again as soon as answered: the most a cache must absorb); a mix of
 * questions is an open loop, requests arriving at a steady rate whatever the answers do, as callers' requests
 * arrive: in a closed loop, clients served from the cache would loop back at once and pile onto the question
 * being refreshed, which measures the loop rather than the API.
 */

const SKILLS_PER_QUERY = 100;

interface LoadScenario {
  readonly id: string;
  readonly label: string;
  readonly distinctQueries: number;
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** QUERY_CACHE_SECONDS. */
  readonly cacheSeconds: number;
  /** Whether the targets on coalescing and overhead apply (a lone uncached client is context, not a target). */
  readonly judged: boolean;
  /** Open loop: requests arrive at this rate (`clients` then caps the connections). */
  readonly arrivalsPerSecond?: number;
}

interface LoadScenarioResult {
  readonly scenario: LoadScenario;
  readonly load: LoadResult;
  readonly cms: ServerCounts;
  /** CPU of this process (API stand-in and query handler) over the measured stretch. */
  readonly apiCpuMs: number;
}

export interface QueryBenchResult {
  readonly cmsLatencyMs: number;
  readonly scenarios: readonly LoadScenarioResult[];
  /**
   * The same query read from CMS directly with the CMS client (counters and live queue, as the API reads), one
   * at a time: what the API adds is beyond this.
   */
  readonly directCmsMs: readonly number[];
  /** The counters alone, sampled alternately with the reads: one round trip, the yardstick of a read. */
  readonly countersOnlyMs: readonly number[];
}

function loadScenarios(options: {
  readonly clients: number;
  readonly arrivalsPerSecond: number;
  readonly durationMs: number;
  readonly cacheSeconds: number;
}): LoadScenario[] {
  const base = {
    clients: options.clients,
    warmupMs: 1_000,
    durationMs: options.durationMs,
    cacheSeconds: options.cacheSeconds,
    judged: true,
  };
  return [
    { ...base, id: 'same', label: `${options.clients} clients, 1 query`, distinctQueries: 1 },
    {
      ...base,
      id: 'mix',
      label: `${options.arrivalsPerSecond} requests/s, 20 queries`,
      distinctQueries: 20,
      arrivalsPerSecond: options.arrivalsPerSecond,
    },
    {
      id: 'single',
      label: '1 client, no cache',
      distinctQueries: 1,
      clients: 1,
      warmupMs: 500,
      durationMs: Math.min(3_000, options.durationMs),
      cacheSeconds: 0,
      judged: false,
    },
  ];
}

/** Query `index` asks for its own block of skills of the one configured VDN. */
function skillRange(index: number): string {
  const first = index * SKILLS_PER_QUERY + 1;
  return `${first}-${first + SKILLS_PER_QUERY - 1}`;
}

function runLoad(
  plan: LoadPlan,
  onMeasuring: () => Promise<void>,
): Promise<{ result: LoadResult; measuring: Promise<void> }> {
  const child = spawnTsxWithIpc(fileURLToPath(new URL('./load-client.ts', import.meta.url)), cleanEnv());
  let measuring: Promise<void> = Promise.resolve();
  return new Promise((resolve, reject) => {
    child.on('message', (message: LoadMessage) => {
      if (message.kind === 'measuring') measuring = onMeasuring();
      else if (message.kind === 'result') resolve({ result: message.result, measuring });
      else reject(new Error(`the load generator failed: ${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the load generator exited (${code}) without a result`)));
    child.send(plan);
  });
}

async function runScenario(servers: BenchServers, scenario: LoadScenario): Promise<LoadScenarioResult> {
  const env: Env = {
    CMS_BASE_URL: servers.cmsUrl,
    CC_ID: '1',
    VDN: '1',
    SKILL_IDS: skillRange(0),
    QUERY_CACHE_SECONDS: String(scenario.cacheSeconds),
  };
  const credentials = worldCredentials(servers);
  const handlerErrors: unknown[] = [];
  const api = await startApiServer({
    handler: createQueryHandler(env, { credentials, log: quietLog() }),
    onError: (error) => handlerErrors.push(error),
  });
  try {
    const urls = Array.from(
      { length: scenario.distinctQueries },
      (_, index) => `${api.url}${statsPath(1, 1)}?skillIds=${skillRange(index)}`,
    );
    let baseline: ServerCounts | undefined;
    let cpuFrom: NodeJS.CpuUsage | undefined;
    const { result, measuring } = await runLoad(
      {
        urls,
        clients: scenario.clients,
        warmupMs: scenario.warmupMs,
        durationMs: scenario.durationMs,
        ...(scenario.arrivalsPerSecond === undefined
          ? {}
          : { arrivalsPerSecond: scenario.arrivalsPerSecond }),
      },
      async () => {
        cpuFrom = process.cpuUsage();
        baseline = await servers.take();
      },
    );
    const cpu = process.cpuUsage(cpuFrom);
    await measuring;
    if (baseline === undefined) throw new Error('the load generator never began measuring');
    const cms = await servers.take();
    const apiCpuMs = (cpu.user + cpu.system) / 1_000;
    const load =
      handlerErrors.length === 0
        ? result
        : { ...result, errors: { ...result.errors, 'handler threw': handlerErrors.length } };
    return { scenario, load, cms, apiCpuMs };
  } finally {
    await api.close();
  }
}

/**
 * Reads (counters and live queue at once) and counters alone, alternately, with one warm CMS client: a read
 * that sent its two calls one after the other would take two round trips.
 */
async function directCmsCalls(
  servers: BenchServers,
  samples: number,
): Promise<{ read: number[]; counters: number[] }> {
  const settings = loadCmsSettings({ CMS_BASE_URL: servers.cmsUrl });
  const client = new CmsClient({ ...settings, credentials: worldCredentials(servers) });
  const query = {
    ccId: 1,
    vdn: 1,
    skillIds: Array.from({ length: SKILLS_PER_QUERY }, (_, index) => index + 1),
  };
  const read: number[] = [];
  const counters: number[] = [];
  const timed = async (call: () => Promise<unknown>, times: number[]) => {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  };
  try {
    // The first read opens the connections and settles the signature; like the API's warm-up, not a sample.
    await client.currentCallStats(query, { deadline: Date.now() + 10_000, liveQueue: true });
    for (let sample = 0; sample < samples; sample += 1) {
      await timed(
        () => client.currentCallStats(query, { deadline: Date.now() + 10_000, liveQueue: true }),
        read,
      );
      await timed(() => client.currentCallStats(query, { deadline: Date.now() + 10_000 }), counters);
    }
  } finally {
    client.close();
  }
  return { read, counters };
}

export async function runQueryBench(
  servers: BenchServers,
  options: {
    readonly cmsLatencyMs: number;
    readonly clients: number;
    readonly arrivalsPerSecond: number;
    readonly durationMs: number;
    readonly cacheSeconds: number;
  },
): Promise<QueryBenchResult> {
  const results: LoadScenarioResult[] = [];
  for (const scenario of loadScenarios(options)) {
    results.push(await runScenario(servers, scenario));
    // Lets the API's sockets and the load generator's process go before the next scenario begins.
    await delay(200);
  }
  const direct = await directCmsCalls(servers, 15);
  await servers.take();
  return {
    cmsLatencyMs: options.cmsLatencyMs,
    scenarios: results,
    directCmsMs: direct.read,
    countersOnlyMs: direct.counters,
  };
}

export function queryFigures(result: QueryBenchResult): Figure[] {
  const direct = median(result.directCmsMs);
  const countersOnly = median(result.countersOnlyMs);
  const figures: Figure[] = [
    {
      id: 'query.readVsCounters',
      label: 'a read (counters and live queue) vs the counters alone: wall time, one warm client',
      value: direct / countersOnly,
      unit: '×',
      // One round trip: sent one after the other, the two calls would take twice as long.
      goal: { op: '<=', value: 1.25 },
      note:
        `read ${direct.toFixed(1)} ms vs counters alone ${countersOnly.toFixed(1)} ms (medians of ` +
        `${result.directCmsMs.length} alternating samples, ${result.cmsLatencyMs} ms CMS latency on each interface)`,
    },
  ];
  for (const { scenario, load, cms, apiCpuMs } of result.scenarios) {
    const id = `query.${scenario.id}`;
    const pct = (cpuMs: number): string => `${((100 * cpuMs) / load.durationMs).toFixed(0)}%`;
    const errorCount = Object.values(load.errors).reduce((sum, count) => sum + count, 0);
    const overhead = load.latencyMs.p50 - result.cmsLatencyMs;
    const rps = (load.served / load.durationMs) * 1_000;
    const perQuery = Object.values(cms.cmsByQuery);
    const busiest = Math.max(0, ...perQuery);
    const latencyNote =
      `p50 ${load.latencyMs.p50.toFixed(2)} ms, p90 ${load.latencyMs.p90.toFixed(1)}, p99 ${load.latencyMs.p99.toFixed(1)}, ` +
      `max ${load.latencyMs.max.toFixed(0)} ms; ${load.served} served in ${(load.durationMs / 1_000).toFixed(1)} s (${rps.toFixed(0)}/s) ` +
      `over ${load.socketsOpened} connections; CPU: API process ${pct(apiCpuMs)}, load generator ${pct(load.cpuMs)}`;
    if (!scenario.judged) {
      figures.push({
        id: `${id}.p50OverheadMs`,
        label: `query ${scenario.label}: p50 − CMS latency`,
        value: overhead,
        unit: 'ms',
        note:
          `${latencyNote}; the CMS client alone takes ${direct.toFixed(1)} ms (median), so API + handler add ` +
          `${(load.latencyMs.p50 - direct).toFixed(1)} ms to a call that misses the cache`,
      });
      continue;
    }
    const bound = maxCachedCmsCalls(scenario.distinctQueries, load.durationMs, scenario.cacheSeconds * 1_000);
    const latency: Figure[] =
      scenario.arrivalsPerSecond === undefined
        ? [
            {
              id: `${id}.p50OverheadMs`,
              label: `query ${scenario.label}: p50 − CMS latency`,
              value: overhead,
              unit: 'ms',
              goal: { op: '<=', value: 2 },
              note:
                overhead < 0
                  ? `${latencyNote}; below the CMS latency: most answers come from the cache or join a call in flight`
                  : `${latencyNote}; with ${scenario.clients} clients in a closed loop, latency ≈ clients / throughput (Little's law)`,
            },
            {
              id: `${id}.p99Ms`,
              label: `query ${scenario.label}: p99 latency`,
              value: load.latencyMs.p99,
              unit: 'ms',
            },
          ]
        : [
            {
              id: `${id}.p50OverheadMs`,
              label: `query ${scenario.label}: p50 − CMS latency`,
              value: overhead,
              unit: 'ms',
              note: `${latencyNote}; most requests find their answer in the cache`,
            },
            {
              id: `${id}.p99OverheadMs`,
              label: `query ${scenario.label}: p99 − CMS latency`,
              value: load.latencyMs.p99 - result.cmsLatencyMs,
              unit: 'ms',
              note:
                'latency from when each request was due, so a slow answer cannot hide by slowing the arrivals; ' +
                'the requests that miss the cache or join a refresh in flight wait for a CMS round trip, longer ' +
                'when the answers of many queries expire together and their refreshes queue for CMS_CONCURRENCY ' +
                'connections',
            },
          ];
    figures.push(
      ...latency,
      {
        id: `${id}.errors`,
        label: `query ${scenario.label}: errors`,
        value: errorCount,
        unit: '',
        goal: { op: '==', value: 0 },
        ...(errorCount > 0 ? { note: JSON.stringify(load.errors) } : {}),
      },
      {
        id: `${id}.cmsCalls`,
        label: `query ${scenario.label}: CMS requests`,
        value: cms.cmsRequests,
        unit: '',
        goal: { op: '<=', value: bound },
        note: `bound = ${scenario.distinctQueries} ${scenario.distinctQueries === 1 ? 'query' : 'queries'} × ⌈${(load.durationMs / 1_000).toFixed(1)} s / ${scenario.cacheSeconds} s cache⌉; busiest query reached CMS ${busiest} times; ${load.served} answers; ${cms.liveQueueRequests} live-queue requests, sent with them`,
      },
    );
  }
  return figures;
}
