/** Entry point of a load worker thread: drives one shard and posts its seconds and report. */
import { parentPort, workerData } from 'node:worker_threads';
import { Shard, TargetUnreachableError } from './shard.js';
import type { FromWorker, ToWorker, WorkerInput } from './shard-messages.js';

const port = parentPort;
if (port === null) throw new Error('shard-worker runs only as a worker thread');
const post = (message: FromWorker): void => port.postMessage(message);
const failed = (error: unknown): FromWorker => ({
  type: 'failed',
  message: error instanceof Error ? error.message : String(error),
  unreachable: error instanceof TargetUnreachableError,
});

const shard = new Shard(workerData as WorkerInput, (second) => post({ type: 'second', second }));

port.on('message', (message: ToWorker) => {
  if (message.type === 'abort') {
    shard.stopAll();
    port.close();
    return;
  }
  shard.run(message.startEpochMs).then(
    (report) => {
      post({ type: 'report', report });
      port.close();
    },
    (error: unknown) => post(failed(error)),
  );
});

shard.connect().then(
  () => post({ type: 'connected' }),
  (error: unknown) => post(failed(error)),
);
