/**
 * `npm start`: the whole product on this machine, with no AWS account: the CMS simulator, the real collector
 * handler on a short interval with the `table` sink (a terminal wallboard, redrawn in place on a TTY), the real
 * query handler behind a local HTTP server, and the dashboard wallboard as a web page. Ctrl-C stops it.
 * `--runs N` stops after N collections (used by the tests). `--otlp` also exports every busy skill's counters
 * over OTLP/HTTP to a local receiver it starts on 127.0.0.1 (which reads them with the official OpenTelemetry
 * schema) and shows what arrived.
 */
import { parseArgs } from 'node:util';
import { STATS_ROUTE_KEYS, statsPath } from '../lib/api/route.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import { createWallboardHandler } from '../lib/lambda/wallboard.js';
import type { Log } from '../lib/log.js';
import { parseWholeNumber } from '../lib/validation.js';
import { type OtlpReceiver, startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { startApiServer } from './api-server.js';
import { HealthRecorder, TodayRecorder } from './recorders.js';
import { startCmsSimulator } from './simulator/index.js';
import { redrawInPlace, TableSink } from './table.js';
import { startWallboardServer } from './wallboard-server.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    interval: { type: 'string', default: process.env.START_INTERVAL_SECONDS ?? '5' },
    otlp: { type: 'boolean', default: false },
  },
});
/** A flag's positive whole number; anything else stops the run with the usage line. */
function positiveFlag(flag: string, text: string): number {
  try {
    return parseWholeNumber(text, { min: 1, max: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    process.stderr.write(
      `${flag}: ${(error as Error).message}\nusage: npm start -- [--runs N] [--interval SECONDS] [--otlp]\n`,
    );
    process.exit(2);
  }
}
const runs = values.runs === undefined ? Number.POSITIVE_INFINITY : positiveFlag('--runs', values.runs);
const intervalMs = positiveFlag('--interval', values.interval) * 1_000;

const ACCESS_KEY = 'local-access-key';
const SECRET_KEY = 'local-secret-key';
// Skill 8 does not exist in the simulated CMS, so the wallboard shows how a missing skill is reported. The
// simulated CMS accepts another signature layout than the client's first guess, so every start shows the
// negotiation, and locks the IP as a real CMS would if the client ever kept guessing.
const SIMULATED_LAYOUT = 'empty-query-line-millis';
const simulator = await startCmsSimulator({
  accessKey: ACCESS_KEY,
  secretKey: SECRET_KEY,
  absentSkillIds: [8],
  signatureLayout: SIMULATED_LAYOUT,
  lockAfterRefusals: 5,
});

const otlpReceiver: OtlpReceiver | undefined = values.otlp ? await startOtlpReceiver() : undefined;
const env = {
  // Each run's new figures, so that every run shows what goes out; a deployment sends each window's totals only
  // (OTLP_DATAPOINTS=window-totals), at the window's closing read.
  ...(otlpReceiver ? { OTLP_ENDPOINT: otlpReceiver.url, OTLP_DATAPOINTS: 'every-read' } : {}),
  CMS_BASE_URL: simulator.url,
  CMS_TARGETS: JSON.stringify([
    { ccId: 1, vdn: 170, skillIds: '1-8' },
    { ccId: 1, vdn: 171, skillIds: '20-24' },
  ]),
  // The terminal table shows every figure of every skill; a deployment publishes two per skill by default and
  // leaves the rest to the wallboard page.
  SKILL_METRICS: 'all',
  QUERY_CACHE_SECONDS: '2',
  // The run due last before a window's end waits for its closing read: the interval is this loop's schedule.
  CLOSING_READ_REACH_SECONDS: String(Math.min(240, Math.ceil(intervalMs / 1_000))),
};
// The key pair and the simulator's private CA arrive the way the Secrets Manager secret would carry them.
const credentials = staticCredentials({
  accessKey: ACCESS_KEY,
  secretKey: SECRET_KEY,
  caCertificate: simulator.caCertificate,
});
const problems: string[] = [];
/** What each client found out about the signature layout: shown above every redraw, not just once. */
const negotiations = new Set<string>();
const log: Log = {
  debug: () => {},
  info: () => {},
  warn: (message, ...fields) => {
    if (fields.some((field) => 'signatureLayout' in field)) negotiations.add(`signature: ${message}`);
    else problems.push(`warning: ${message} ${JSON.stringify(fields)}`);
  },
  error: (message, ...fields) => problems.push(`error: ${message} ${JSON.stringify(fields)}`),
};
// The terminal table of each run, printed with the rest of its screen once the run is over.
let table = '';
const health = new HealthRecorder();
const today = new TodayRecorder();
const collect = createCollectorHandler(env, {
  credentials,
  log,
  sink: health.recording(today.recording(new TableSink({ write: (text) => (table = text) }))),
});
// The routes the stack declares: a path outside them meets API Gateway's 404, as it would when deployed.
const api = await startApiServer({
  handler: createQueryHandler(env, { credentials, log }),
  routes: STATS_ROUTE_KEYS,
});
const wallboard = await startWallboardServer({
  handler: createWallboardHandler(env, { credentials, log, health, today }),
  refreshSeconds: Math.max(2, Math.round(intervalMs / 1_000)),
  onError: (error) => problems.push(`error: wallboard ${String(error)}`),
});

const header = [
  `cms-skill-metrics — local run (CMS simulator at ${simulator.url}, no AWS)`,
  `Query API: ${api.url}${statsPath(1, 170)}`,
  `  curl -s '${api.url}${statsPath(1, 170)}?skillIds=1-5' | jq .`,
  `  curl -s -X POST ${api.url}${statsPath(1, 171)} -H 'content-type: application/json' -d '{"skillIds":[20,21]}'`,
  `Wallboard: ${wallboard.url}?ccId=1&vdn=170   (also vdn=171; the page refreshes itself)`,
  'Ctrl-C to stop.',
  '',
].join('\n');

/** What the local OTLP receiver got from this run: the counts, and a few datapoints as PromQL would show them. */
function otlpLines(summary: Awaited<ReturnType<typeof collect>>): string[] {
  if (otlpReceiver === undefined || summary.otlp === undefined) return [];
  const { points, accepted, requests, bytes, wireBytes } = summary.otlp;
  const received = otlpReceiver.accepted.slice(-accepted);
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const samples = received
    .filter((point) => point.name === 'cec_calls_offered' || point.name === 'cec_calls_abandoned')
    .slice(0, 4)
    .map(
      (point) =>
        `  ${point.name}{cc_id="${point.attributes.cc_id}",vdn="${point.attributes.vdn}",skill_id="${point.attributes.skill_id}"} ${point.value}` +
        `   (window from ${time(point.start)}, read ${time(point.time)})`,
    );
  return [
    `OTLP: ${accepted}/${points} datapoints accepted by the local receiver at ${otlpReceiver.url} ` +
      `(${requests} requests, ${bytes} bytes of protobuf, ${wireBytes} gzipped; OTLP_DATAPOINTS=every-read)`,
    ...samples,
  ];
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([api.close(), wallboard.close(), simulator.close(), otlpReceiver?.close()]);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

// A terminal gets each run's screen over the previous one; a pipe or a file gets every run, one after another.
if (process.stdout.isTTY) process.stdout.write('\x1b[2J');
for (let run = 1; run <= runs && !stopping; run += 1) {
  problems.length = 0;
  const summary = await collect({}, { getRemainingTimeInMillis: () => 30_000 });
  const closing =
    summary.closingReads.targets > 0
      ? `; closing read of ${summary.closingReads.targets} VDNs after waiting ${(summary.closingReads.waitedMs / 1_000).toFixed(1)} s`
      : '';
  const screen = [
    header,
    table,
    `run ${run} at ${new Date().toISOString()}: ${summary.targets} VDNs, ${summary.skillsReturned}/${summary.skillsRequested} skills, ` +
      `${summary.cmsRequests} CMS requests, ${summary.datumsPublished}/${summary.datums} datums in ${summary.durationMs} ms${closing}`,
    ...otlpLines(summary),
    // How the C2 signature layout was settled, once it has been, on every screen from then on.
    ...negotiations,
    ...problems,
    '',
  ].join('\n');
  process.stdout.write(process.stdout.isTTY ? redrawInPlace(screen) : `${screen}\n`);
  if (run < runs) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await stop();
