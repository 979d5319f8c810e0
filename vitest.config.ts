import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Integration tests start real services on free ports; two forks keep a 2-core machine busy but not thrashing.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
