// The esbuild options of every bundle: shared by the build and by the benchmark's SDK-only floor bundle, so the
// two are always compared like for like.

import { fileURLToPath } from 'node:url';

// The SDK's CommonJS parts call require() for Node built-ins, which ESM output only has through createRequire.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** The Node.js major of the Lambda runtime (`nodejs24.x` in serverless.yml; the stack test keeps them equal). */
export const LAMBDA_NODE_MAJOR = 24;
/** The oldest Node.js the CLI supports (package.json `engines`): operators run it on their own machines. */
const CLI_NODE_MAJOR = 20;

/**
 * The OTLP exporter is imported (dynamically) only by a collector configured for it: the handler's bundle leaves
 * it to `otlp.mjs` beside itself, which `npm run build` makes from lib/metrics/otlp-export.ts, so that no other
 * deployment carries or loads its code.
 */
export const OTLP_EXPORT = { entry: 'lib/metrics/otlp-export.ts', file: 'otlp.mjs' };
const lazyOtlpExport = {
  name: 'lazy-otlp-export',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.onResolve({ filter: /\/otlp-export\.js$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: `./${OTLP_EXPORT.file}`, external: true } : undefined,
    );
  },
};

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
    target: `node${executable ? CLI_NODE_MAJOR : LAMBDA_NODE_MAJOR}`,
    // The AWS SDK's ESM entry points tree-shake better than its CommonJS ones.
    mainFields: ['module', 'main'],
    legalComments: 'none',
    banner: { js: executable ? `#!/usr/bin/env node\n${requireShim}` : requireShim },
    logLevel: 'warning',
    plugins: [lazyOtlpExport],
  };
}

/** Where `npm run build` writes the stack generator, which serverless.yml's `${file(...)}` variables load. */
export const STACK_BUNDLE = 'dist/stack/vdn-monitoring.cjs';

/**
 * The stack generator osls loads while packaging: CommonJS, because osls require()s it, for the Node.js that
 * runs osls on an operator's machine (the CLI's floor); unminified, so that a failure's trace stays readable.
 * @param {string} outfile
 */
export function stackBundleOptions(outfile) {
  return {
    entryPoints: [fileURLToPath(new URL('../stack/vdn-monitoring.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: `node${CLI_NODE_MAJOR}`,
    legalComments: 'none',
    logLevel: 'warning',
  };
}
