// One minified ESM bundle per Lambda handler (dist/<handler>/index.mjs; the collector's OTLP exporter beside it
// in otlp.mjs, loaded only when configured) and one for the CLI; the CommonJS stack
// generator osls loads while packaging (dist/stack/vdn-monitoring.cjs).
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { bundleOptions, OTLP_EXPORT, STACK_BUNDLE, stackBundleOptions } from './bundle-options.mjs';

const entries = {
  collector: 'handlers/collector.ts',
  query: 'handlers/query.ts',
  wallboard: 'handlers/wallboard.ts',
  cli: 'lib/cli/bin.ts',
};

await rm('dist', { recursive: true, force: true });
await Promise.all([
  ...Object.entries(entries).map(([name, entry]) =>
    build(bundleOptions({ entry, outfile: `dist/${name}/index.mjs`, executable: name === 'cli' })),
  ),
  build(bundleOptions({ entry: OTLP_EXPORT.entry, outfile: `dist/collector/${OTLP_EXPORT.file}` })),
  build(stackBundleOptions(STACK_BUNDLE)),
]);
