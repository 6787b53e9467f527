/**
 * The handshake a handler thread sleeps with, in both wake modes: the main thread's wake-up
 * must reach a sleeper even when a blocking call nested in the sleeper's last look lowered
 * its waiting flag on the way out (a push's sendall that found room by itself, inside recv's
 * wait). That was the slow-consumer stall: the sleeper slept with its flag down, unwoken.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { makeFifos, ringFifo } from '../dist/kernel/fifo.js';
import { ConnectionBuffers } from '../dist/kernel/shared-buffers.js';

const SLEEP_MS = 5_000;

/** The thread's side, as main-thread-link's block() runs it, with a nested block that returns at once. */
const sleeper = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.module).then(({ ConnectionBuffers, mainClock }) => {
  const buffers = new ConnectionBuffers(workerData.shared, workerData.fifo, mainClock(workerData.origin));
  const seen = buffers.goingToSleep();
  // A nested wait whose condition already held: it looked, then lowered the flag.
  buffers.goingToSleep();
  buffers.awake();
  parentPort.postMessage('sleeping');
  const started = performance.now();
  buffers.sleep(seen, ${SLEEP_MS});
  buffers.awake();
  parentPort.postMessage(performance.now() - started);
});
`;

describe.each(['futex', 'fifo'] as const)('a sleeping handler thread (%s)', (mode) => {
  it('is woken by the main thread after a nested wait lowered its flag', async () => {
    const fifo = mode === 'fifo' ? makeFifos(1)[0] : undefined;
    const buffers = new ConnectionBuffers(undefined, fifo);
    const worker = new Worker(sleeper, {
      eval: true,
      workerData: {
        module: new URL('../dist/kernel/shared-buffers.js', import.meta.url).href,
        shared: buffers.shared,
        fifo,
        origin: performance.timeOrigin,
      },
    });
    try {
      const slept = await new Promise<number>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (message: unknown) => {
          if (message === 'sleeping') {
            setTimeout(() => buffers.wakeThread(), 100);
            // A FIFO sleep has no timeout of its own: end it, so a lost wake-up fails the test rather than hanging it.
            if (fifo !== undefined) setTimeout(() => ringFifo(fifo.write), SLEEP_MS);
          } else resolve(message as number);
        });
      });
      expect(slept, 'woken by wakeThread, not by the sleep timing out').toBeLessThan(SLEEP_MS / 2);
    } finally {
      await worker.terminate();
    }
  });
});
