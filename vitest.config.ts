import { defineConfig } from 'vitest/config';

// Real-browser tests need Chromium, which `npm test` does not: `npm run test:browser` runs them, and so does
// `vitest run test/browser/…` when it names them.
const browserNamed = process.argv.some((argument) => argument.includes('test/browser'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: [...(browserNamed ? [] : ['test/browser/**']), '**/node_modules/**'],
    // Integration tests run real TLS servers; two cores are shared by every worker.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The one osls packaging of the suite, shared by every test file that reads the packaged stack.
    globalSetup: ['test/support/stack-global-setup.ts'],
  },
});
