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
  },
});
