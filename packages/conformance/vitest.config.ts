/** Servers for different models must not fight for the cores: one test file at a time, generous timeouts. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    fileParallelism: false,
    // ECHOPLEX_TEST_HUB=1: one redis-server for the run, stopped at its end (src/server-process.ts).
    globalSetup: ['test/hub-global-setup.ts'],
  },
});
