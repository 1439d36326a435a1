import { defineConfig } from 'vitest/config';

/** Tests run real guests in real workers: generous per-test time, no file parallelism per package. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
