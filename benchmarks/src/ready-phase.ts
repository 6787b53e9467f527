/**
 * The ready phase before a step's warmup: as many connections as the step holds each complete
 * one PING, at once, and the time until the last of them got its reply is the step's
 * `readySeconds`. A model that starts a thread or a child per connection pays that start here,
 * where it is measured on purpose, instead of inside the warmup and the measured window. The
 * connections are then closed; a model that pools its threads or children serves the step's
 * own connections with the ones it just started.
 */
import net from 'node:net';
import { buildExchange, connectOptions, parseTarget } from '@echoplex/loadgen';

export interface ReadyOutcome {
  /** Connections that got a correct reply within the bound. */
  readonly served: number;
  readonly of: number;
  /** Until the last reply, or the bound when some never came. */
  readonly seconds: number;
  /** Replies that were wrong, and connections refused or closed: what went wrong, briefly. */
  readonly problems: readonly string[];
}

/** Connections opened at once, so the server's accept queue (511) is not flooded. */
const CONNECT_BATCH = 200;

export async function waitUntilServed(target: string, connections: number, mirror: boolean, timeoutMs: number): Promise<ReadyOutcome> {
  const exchange = buildExchange({ scenario: 'ping', size: 8, workIterations: 1, mirror });
  const options = connectOptions(parseTarget(target));
  const started = performance.now();
  const deadline = started + timeoutMs;
  const sockets: net.Socket[] = [];
  const problems: string[] = [];
  let served = 0;
  let lastReply = started;
  const serveOne = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect(options);
      sockets.push(socket);
      const chunks: Buffer[] = [];
      let received = 0;
      let done = false;
      const finish = (problem?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (problem !== undefined && problems.length < 5) problems.push(`ready connection ${index}: ${problem}`);
        resolve();
      };
      const timer = setTimeout(() => finish(), Math.max(0, deadline - performance.now()));
      socket.setNoDelay(true);
      socket.once('connect', () => socket.write(exchange.request));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received < exchange.reply.length) return;
        if (Buffer.concat(chunks).subarray(0, exchange.reply.length).equals(exchange.reply)) {
          served++;
          lastReply = performance.now();
          finish();
        } else {
          finish('a wrong reply to PING');
        }
      });
      socket.on('error', (error) => finish(error.message));
      socket.on('close', () => finish(received < exchange.reply.length ? 'closed before its reply' : undefined));
    });
  try {
    const pending: Promise<void>[] = [];
    for (let first = 0; first < connections && performance.now() < deadline; first += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let index = first; index < Math.min(connections, first + CONNECT_BATCH); index++) batch.push(serveOne(index));
      pending.push(...batch);
      // The next batch connects once this one is accepted and answered (or given up on).
      await Promise.all(batch);
    }
    await Promise.all(pending);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  const seconds = served === connections ? (lastReply - started) / 1000 : timeoutMs / 1000;
  return { served, of: connections, seconds: Math.round(seconds * 1000) / 1000, problems };
}
