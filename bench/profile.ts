/**
 * Where a collection's CPU goes: `npx tsx bench/profile.ts [--skills 5000] [--runs 3] [--out file.cpuprofile]`
 * runs the real collector handler against the stand-in servers (in their own process, so only our side is
 * sampled) under the V8 profiler, after one unprofiled warm-up run, and prints the hot spots. The saved
 * profile opens in Chrome DevTools or any `.cpuprofile` viewer.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CMS_LIMITS } from '../lib/model.js';
import { parseWholeNumber } from '../lib/validation.js';
import { REPO_ROOT } from './children.js';
import { measuredCollector } from './collector.js';
import { type CpuProfile, formatSummary, summarizeProfile } from './profile-summary.js';
import { startBenchServers } from './servers-client.js';

const { values } = parseArgs({
  options: {
    skills: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
let skills: number;
let runs: number;
try {
  skills = parseWholeNumber(values.skills, CMS_LIMITS.skillId);
  runs = parseWholeNumber(values.runs, { min: 1, max: Number.MAX_SAFE_INTEGER });
} catch (error) {
  process.stderr.write(
    `${(error as Error).message}\nusage: npx tsx bench/profile.ts [--skills 1-5000] [--runs N] [--out file.cpuprofile]\n`,
  );
  process.exit(2);
}

const servers = await startBenchServers({ cmsLatencyMs: 50, awsLatencyMs: 20 });
const session = new Session();
try {
  const handler = measuredCollector(servers, skills);
  const context = { getRemainingTimeInMillis: () => 60_000 };
  await handler({}, context);

  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  const started = performance.now();
  let datums = 0;
  for (let run = 0; run < runs; run += 1) datums = (await handler({}, context)).datums;
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };

  if (values.out) await writeFile(values.out, JSON.stringify(profile));
  const cpuMs = (used.user + used.system) / 1_000;
  process.stdout.write(
    `${runs} runs of ${skills} skills (${datums} datums each): ${(wallMs / runs).toFixed(0)} ms wall and ` +
      `${(cpuMs / runs).toFixed(0)} ms CPU per run\n\n${formatSummary(summarizeProfile(profile, REPO_ROOT))}\n`,
  );
} finally {
  session.disconnect();
  await servers.close();
}
