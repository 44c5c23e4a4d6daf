// Peak memory of a collection, run as `node bench/rss-probe.mjs <collector bundle> <runs>` in a fresh process:
// the production bundle, configured from the environment exactly as Lambda would configure it, with only this
// collection in the process (the CMS simulator and the AWS endpoint it talks to live elsewhere). Plain
// JavaScript, so no loader adds to the figure. Prints the peak resident set size after each run.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, runsText = '1'] = process.argv.slice(2);
const runs = Number(runsText);
if (bundle === undefined || !(Number.isInteger(runs) && runs > 0)) {
  process.stderr.write('usage: node bench/rss-probe.mjs <collector bundle> [runs]\n');
  process.exit(2);
}
const peakMB = () => process.resourceUsage().maxRSS / 1024;
const afterStartMB = peakMB();
const { handler } = await import(pathToFileURL(bundle).href);
const afterImportMB = peakMB();
const context = { getRemainingTimeInMillis: () => 60_000 };
const results = [];
for (let run = 0; run < runs; run += 1) {
  const started = performance.now();
  const summary = await handler({}, context);
  results.push({
    ms: performance.now() - started,
    peakMB: peakMB(),
    datums: summary.datums,
    datumsPublished: summary.datumsPublished,
    cmsRequests: summary.cmsRequests,
    skillsReturned: summary.skillsReturned,
  });
}
const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
// Keep-alive sockets must not hold the probe open once its figure is out.
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ afterStartMB, afterImportMB, runs: results, heapUsedAtEndMB: heapMB })}\n`,
  () => process.exit(0),
);
