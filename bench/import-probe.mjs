// Cold-start probe, run as `node bench/import-probe.mjs <bundle.mjs>` in a fresh process: plain JavaScript, so no
// loader distorts what it measures. Prints the time `import()` of the bundle took (loading, parsing, and running
// its top level, which is where a handler validates its configuration and builds its clients) and the time since
// the process started.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (bundle === undefined) {
  process.stderr.write('usage: node bench/import-probe.mjs <bundle.mjs>\n');
  process.exit(2);
}
const url = pathToFileURL(bundle).href;
const started = performance.now();
await import(url);
const importMs = performance.now() - started;
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ importMs, sinceProcessStartMs: performance.now() })}\n`,
);
