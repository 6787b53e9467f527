/** A raw client connection for probes: bytes in, bytes out, when it closed; no protocol knowledge beyond lines. */
import { connect, type Socket } from 'node:net';
import type { ConnectTarget } from '@echoplex/conformance';

export class RawConnection {
  /** Everything received, in order. */
  private chunks: Buffer[] = [];
  private receivedBytes = 0;
  /** Lines taken by `nextLine` so far, as a byte offset into what was received. */
  private lineOffset = 0;
  private closedAtMs: number | undefined;
  private waiters: (() => void)[] = [];
  readonly openedAtMs = performance.now();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.receivedBytes += chunk.length;
      this.wake();
    });
    const closed = (): void => {
      if (this.closedAtMs === undefined) this.closedAtMs = performance.now();
      this.wake();
    };
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', closed);
  }

  /** Connects, or rejects with the connect error (refused, reset) or a timeout. */
  static open(target: ConnectTarget, timeoutMs = 5_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(target);
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawConnection(socket));
      });
    });
  }

  get received(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  get byteCount(): number {
    return this.receivedBytes;
  }

  get isClosed(): boolean {
    return this.closedAtMs !== undefined;
  }

  /** Milliseconds from the connect to the server's FIN or the close, if it came. */
  get closedAfterMs(): number | undefined {
    return this.closedAtMs === undefined ? undefined : this.closedAtMs - this.openedAtMs;
  }

  /** Writes, resolving once the socket takes more (backpressure respected); false if it is gone. */
  write(bytes: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed || this.socket.writableEnded) return Promise.resolve(false);
    if (this.socket.write(bytes)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => () => {
        this.socket.removeListener('drain', drained);
        this.socket.removeListener('close', gone);
        resolve(ok);
      };
      const drained = done(true);
      const gone = done(false);
      this.socket.once('drain', drained);
      this.socket.once('close', gone);
    });
  }

  /** Half-closes our side. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves true once `ready()` holds, false if the connection closed first or the time ran out. */
  async until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - performance.now();
      if (left <= 0 || this.isClosed) return ready();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server to close (FIN or reset). */
  closed(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.isClosed, timeoutMs);
  }

  /** The next LF-terminated line received (without CR LF), or undefined on close or timeout. */
  async nextLine(timeoutMs: number): Promise<string | undefined> {
    const found = await this.until(() => this.received.indexOf(0x0a, this.lineOffset) >= 0, timeoutMs);
    if (!found) return undefined;
    const all = this.received;
    const end = all.indexOf(0x0a, this.lineOffset);
    const line = all.subarray(this.lineOffset, end).toString('utf8').replace(/\r$/, '');
    this.lineOffset = end + 1;
    return line;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface FreshAnswer {
  /** PONG, BUSY (ERR BUSY), another first line, or none within the time. */
  readonly answer: string;
  readonly ms: number;
}

/** A fresh client's PING: how long until it is answered (PONG or BUSY both count as answered). */
export async function freshPing(target: ConnectTarget, timeoutMs = 1_000): Promise<FreshAnswer> {
  const started = performance.now();
  let connection: RawConnection;
  try {
    connection = await RawConnection.open(target, timeoutMs);
  } catch (error) {
    return { answer: `connect failed: ${(error as Error).message}`, ms: performance.now() - started };
  }
  await connection.write('PING fresh\n');
  const line = await connection.nextLine(Math.max(1, timeoutMs - (performance.now() - started)));
  const ms = performance.now() - started;
  connection.destroy();
  if (line === undefined) return { answer: 'none', ms };
  if (line === 'PONG fresh') return { answer: 'PONG', ms };
  if (line.startsWith('ERR BUSY')) return { answer: 'BUSY', ms };
  return { answer: line.slice(0, 60), ms };
}

export const isAnswered = (fresh: FreshAnswer, withinMs: number): boolean =>
  (fresh.answer === 'PONG' || fresh.answer === 'BUSY') && fresh.ms <= withinMs;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const MIB = 1024 * 1024;
