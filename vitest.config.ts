import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Real-browser tests need Chromium, which `npm test` does not: `npm run test:browser` runs them.
    exclude: ['test/browser/**', '**/node_modules/**'],
    // Integration tests run real TLS servers; two cores are shared by every worker.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The one osls packaging of the suite, shared by every test file that reads the packaged stack.
    globalSetup: ['test/support/stack-global-setup.ts'],
  },
});
