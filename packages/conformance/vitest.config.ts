/**
 * Two test files at a time, one variant a file (test/conformance/), longest first: the suite's servers mostly
 * wait on sockets and timers, so two share the 2 cores without starving each other; more would. Generous timeouts.
 */
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/longest-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
    // ECHOPLEX_TEST_HUB=1: one redis-server for the run, stopped at its end (src/server-process.ts).
    globalSetup: ['test/hub-global-setup.ts'],
  },
});
