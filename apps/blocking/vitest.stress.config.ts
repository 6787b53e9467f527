/** The long stress runs (npm test runs short versions of them): one file at a time, generous timeouts. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['stress/**/*.stress.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
