// The esbuild options of every bundle: shared by the build and by the benchmark's SDK-only floor bundle, so the
// two are always compared like for like.

// The SDK's CommonJS parts call require() for Node built-ins, which ESM output only has through createRequire.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** @param {{ entry: string, outfile: string, executable?: boolean }} bundle */
export function bundleOptions({ entry, outfile, executable = false }) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    // Error names are what logs and Lambda's errorType show; minified ones ("fn", "L") tell an operator nothing.
    keepNames: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The AWS SDK's ESM entry points tree-shake better than its CommonJS ones.
    mainFields: ['module', 'main'],
    legalComments: 'none',
    banner: { js: executable ? `#!/usr/bin/env node\n${requireShim}` : requireShim },
    logLevel: 'warning',
  };
}
