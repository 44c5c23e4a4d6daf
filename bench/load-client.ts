/**
 * HTTP load over keep-alive connections, closed loop (N clients, each sending its next request as soon as the
 * previous answer is read) or open loop (requests arriving at a fixed rate). Run as a child with an IPC
 * channel: it receives one LoadPlan, says when the measured stretch begins (so the parent can start counting
 * CMS requests) and sends one LoadResult.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LoadMessage, LoadPlan, LoadResult } from './load-protocol.js';
import { percentiles } from './stats.js';

function send(message: LoadMessage, then?: () => void): void {
  process.send?.(message, undefined, undefined, then);
}

const REPORT_START = Buffer.from('{"ccId":');
const CLOSING_BRACE = '}'.charCodeAt(0);

/**
 * Status, and whether the body looks like the API's report (a 200 with anything else would be a silent
 * failure). Only its ends are checked: decoding every 30 KB answer would make the generator the bottleneck.
 */
function get(url: URL, agent: Agent): Promise<{ status: number; report: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET' }, (res) => {
      let first: Buffer | undefined;
      let last: Buffer | undefined;
      res.on('data', (chunk: Buffer) => {
        first ??= chunk;
        last = chunk;
      });
      res.on('end', () => {
        const report =
          first?.subarray(0, REPORT_START.length).equals(REPORT_START) === true &&
          last?.[last.length - 1] === CLOSING_BRACE;
        resolve({ status: res.statusCode ?? 0, report });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.clients, maxFreeSockets: plan.clients });
  let socketsOpened = 0;
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = ((...args: Parameters<typeof createConnection>) => {
    socketsOpened += 1;
    return createConnection(...args);
  }) as typeof agent.createConnection;

  const urls = plan.urls.map((url) => new URL(url));
  const started = performance.now();
  const measureFrom = started + plan.warmupMs;
  const end = measureFrom + plan.durationMs;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let served = 0;
  const fail = (kind: string): void => {
    errors[kind] = (errors[kind] ?? 0) + 1;
  };
  let cpuFrom = process.cpuUsage();
  setTimeout(
    () => {
      cpuFrom = process.cpuUsage();
      send({ kind: 'measuring' });
    },
    Math.max(0, measureFrom - performance.now()),
  );

  /** One request, its latency counted from `dueAt` when that lies in the measured stretch. */
  const ask = async (url: URL, dueAt: number): Promise<void> => {
    const counted = dueAt >= measureFrom;
    try {
      const answer = await get(url, agent);
      if (!counted) return;
      latencies.push(performance.now() - dueAt);
      if (answer.status !== 200) fail(`HTTP ${answer.status}`);
      else if (!answer.report) fail('bad body');
      else served += 1;
    } catch (error) {
      if (counted) fail((error as NodeJS.ErrnoException).code ?? 'network error');
    }
  };

  const client = async (index: number): Promise<void> => {
    for (let n = 0; ; n += 1) {
      const sentAt = performance.now();
      if (sentAt >= end) return;
      await ask(urls[(index + n) % urls.length] as URL, sentAt);
    }
  };

  /** Sends every request that has fallen due, then sleeps a tick; requests never wait for earlier answers. */
  const arrivals = async (perSecond: number): Promise<void> => {
    const inFlight: Promise<void>[] = [];
    for (let n = 0; ; ) {
      const dueAt = started + (n * 1_000) / perSecond;
      if (dueAt >= end) break;
      if (dueAt <= performance.now()) {
        inFlight.push(ask(urls[n % urls.length] as URL, dueAt));
        n += 1;
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5, dueAt - performance.now())));
      }
    }
    await Promise.all(inFlight);
  };

  if (plan.arrivalsPerSecond === undefined) {
    await Promise.all(Array.from({ length: plan.clients }, (_, index) => client(index)));
  } else {
    await arrivals(plan.arrivalsPerSecond);
  }
  const durationMs = performance.now() - measureFrom;
  const cpu = process.cpuUsage(cpuFrom);
  agent.destroy();
  const [p50, p90, p99, max] = percentiles(latencies, [50, 90, 99, 100]) as [number, number, number, number];
  const mean = latencies.reduce((sum, ms) => sum + ms, 0) / Math.max(1, latencies.length);
  return {
    durationMs,
    served,
    errors,
    latencyMs: { p50, p90, p99, max, mean },
    socketsOpened,
    cpuMs: (cpu.user + cpu.system) / 1_000,
  };
}

process.once('message', (plan: LoadPlan) => {
  // Once the last message is out, the channel is closed so that the process can end.
  const done = (): void => process.disconnect();
  run(plan).then(
    (result) => send({ kind: 'result', result }, done),
    (error: unknown) => send({ kind: 'failed', error: String(error) }, done),
  );
});
