/**
 * `npm start`: the whole product on this machine, with no AWS account: the CMS simulator, the real collector
 * handler on a short interval with the `stdout` sink (a live wallboard), and the real query handler behind a
 * local HTTP server. Ctrl-C stops it. `--runs N` stops after N collections (used by the tests).
 */
import { parseArgs } from 'node:util';
import { STATS_ROUTE_KEYS, statsPath } from '../lib/api/route.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import type { Log } from '../lib/log.js';
import { startApiServer } from './api-server.js';
import { startCmsSimulator } from './simulator/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    interval: { type: 'string', default: process.env.START_INTERVAL_SECONDS ?? '5' },
  },
});
const runs = values.runs === undefined ? Number.POSITIVE_INFINITY : Number(values.runs);
const intervalMs = Number(values.interval) * 1_000;
if (!(runs > 0) || !(intervalMs > 0)) {
  process.stderr.write('usage: npm start -- [--runs N] [--interval SECONDS]\n');
  process.exit(2);
}

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

const env = {
  CMS_BASE_URL: simulator.url,
  CMS_TARGETS: JSON.stringify([
    { ccId: 1, vdn: 170, skillIds: '1-8' },
    { ccId: 1, vdn: 171, skillIds: '20-24' },
  ]),
  METRICS_SINK: 'stdout',
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
const collect = createCollectorHandler(env, { credentials, log });
// The routes the stack declares: a path outside them meets API Gateway's 404, as it would when deployed.
const api = await startApiServer({
  handler: createQueryHandler(env, { credentials, log }),
  routes: STATS_ROUTE_KEYS,
});

const header = [
  `cms-skill-metrics — local run (CMS simulator at ${simulator.url}, no AWS)`,
  `Query API: ${api.url}${statsPath(1, 170)}`,
  `  curl -s '${api.url}${statsPath(1, 170)}?skillIds=1-5' | jq .`,
  `  curl -s -X POST ${api.url}${statsPath(1, 171)} -H 'content-type: application/json' -d '{"skillIds":[20,21]}'`,
  'Ctrl-C to stop.',
  '',
].join('\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([api.close(), simulator.close()]);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

for (let run = 1; run <= runs && !stopping; run += 1) {
  if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
  process.stdout.write(`${header}\n`);
  for (const negotiation of negotiations) process.stdout.write(`${negotiation}\n`);
  problems.length = 0;
  const negotiationsBefore = negotiations.size;
  const summary = await collect({}, { getRemainingTimeInMillis: () => 30_000 });
  process.stdout.write(
    `\nrun ${run} at ${new Date().toISOString()}: ${summary.targets} VDNs, ${summary.skillsReturned}/${summary.skillsRequested} skills, ` +
      `${summary.cmsRequests} CMS requests, ${summary.datumsPublished}/${summary.datums} datums in ${summary.durationMs} ms` +
      (summary.closingReads.targets > 0
        ? `; closing read of ${summary.closingReads.targets} VDNs after waiting ${(summary.closingReads.waitedMs / 1_000).toFixed(1)} s`
        : '') +
      '\n',
  );
  for (const negotiation of [...negotiations].slice(negotiationsBefore))
    process.stdout.write(`${negotiation}\n`);
  for (const problem of problems) process.stdout.write(`${problem}\n`);
  if (run < runs) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await stop();
