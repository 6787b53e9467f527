/** The fast subset starts real servers of every model: one file at a time, generous timeouts (per-connection forking's part took 62 s on a machine under a load of 25). */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 20_000,
    fileParallelism: false,
  },
});
