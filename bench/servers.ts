/**
 * The CMS simulator and the fake AWS endpoint in a process of their own, driven over IPC by the benchmarks.
 * Keeping them out of the measured process means their CPU (building thousands of statistics records,
 * unzipping and validating tens of thousands of datums) neither slows the code under test nor counts in its
 * memory.
 *
 * Run as `node --import tsx bench/servers.ts` with BENCH_CMS_LATENCY_MS and BENCH_AWS_LATENCY_MS set; it
 * sends one `ready` message, then answers requests until told to close.
 */
import { startWorld } from '../test/support/world.js';
import type { ServerCounts, ServersReady, ServersReply, ServersRequest } from './servers-protocol.js';

function latencyFromEnv(name: string): number {
  const value = Number(process.env[name] ?? '0');
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number of ms ≥ 0`);
  return value;
}

const cmsLatencyMs = latencyFromEnv('BENCH_CMS_LATENCY_MS');
const world = await startWorld({
  keys: { accessKey: 'bench-access-key', secretKey: 'bench-secret-key' },
  aws: { latencyMs: latencyFromEnv('BENCH_AWS_LATENCY_MS') },
});
const { simulator, aws } = world;
if (cmsLatencyMs > 0) {
  for (const endpoint of ['currentcallstateinfo', 'totalskillstatusex3'] as const) {
    simulator.inject({ kind: 'latency', ms: cmsLatencyMs }, { times: Infinity, endpoint });
  }
}

/** Requests already reported: counts are always "since the last take". */
let cmsSeen = 0;
let cpuSince = process.cpuUsage();

function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1_000;
}

function take(): ServerCounts {
  const all = simulator.requests.slice(cmsSeen);
  cmsSeen = simulator.requests.length;
  // One request per batch of each read for the counters; the live queue's are counted apart.
  const requests = all.filter((request) => request.endpoint !== 'totalskillstatusex3');
  const cmsByQuery: Record<string, number> = {};
  const cmsStatuses: Record<string, number> = {};
  for (const request of requests) {
    const first = request.skillIds[0];
    const last = request.skillIds[request.skillIds.length - 1];
    const key = `${request.ccId}/${request.vdn}/${first}-${last}/${request.skillIds.length}`;
    cmsByQuery[key] = (cmsByQuery[key] ?? 0) + 1;
    cmsStatuses[request.status] = (cmsStatuses[request.status] ?? 0) + 1;
  }
  const counts: ServerCounts = {
    cmsRequests: requests.length,
    liveQueueRequests: all.length - requests.length,
    cmsStatuses,
    cmsByQuery,
    putMetricDataCalls: aws.putMetricDataCalls.length,
    putMetricDataDatums: aws.putMetricDataCalls.reduce((sum, call) => sum + call.datums.length, 0),
    putMetricDataMaxDatums: Math.max(0, ...aws.putMetricDataCalls.map((call) => call.datums.length)),
    awsRefused: aws.attempts.filter((attempt) => attempt.status !== 200).length,
    getSecretValueCalls: aws.getSecretValueCalls.length,
    cpuMs: cpuMsSince(cpuSince),
  };
  cpuSince = process.cpuUsage();
  // Datums are kept by the fake per call; tens of thousands per run would pile up over a benchmark.
  aws.clearRecords();
  return counts;
}

async function answer(request: ServersRequest): Promise<ServersReply['result']> {
  switch (request.method) {
    case 'take':
      return take();
    case 'setSecret':
      aws.setSecret(request.secretId, request.secretString);
      return null;
    case 'close':
      await world.close();
      return null;
  }
}

process.on('message', (message: ServersRequest) => {
  answer(message).then(
    (result) => {
      process.send?.({ id: message.id, result } satisfies ServersReply);
      if (message.method === 'close') process.disconnect();
    },
    (error: unknown) =>
      process.send?.({ id: message.id, result: null, error: String(error) } satisfies ServersReply),
  );
});

const { cmsUrl, caCertificate, awsUrl, accessKey, secretKey } = world;
process.send?.({ ready: true, cmsUrl, caCertificate, awsUrl, accessKey, secretKey } satisfies ServersReady);
