import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: tests that drive a real Chromium; they need the Debian `chromium` package. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
