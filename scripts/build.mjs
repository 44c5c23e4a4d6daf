// One minified ESM bundle per Lambda handler (dist/<handler>/index.mjs) and one for the CLI.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// The SDK's CommonJS parts call require() for Node built-ins, which ESM output only has through createRequire.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

const entries = {
  collector: 'handlers/collector.ts',
  query: 'handlers/query.ts',
  cli: 'lib/cli/bin.ts',
};

await rm('dist', { recursive: true, force: true });
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}/index.mjs`,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // The AWS SDK's ESM entry points tree-shake better than its CommonJS ones.
      mainFields: ['module', 'main'],
      legalComments: 'none',
      banner: { js: name === 'cli' ? `#!/usr/bin/env node\n${requireShim}` : requireShim },
      logLevel: 'warning',
    }),
  ),
);
