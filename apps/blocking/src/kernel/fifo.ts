/**
 * Named pipes as a kernel wait: a thread blocked in read(2) on a FIFO sleeps in the kernel
 * and is woken by one byte written to it, with no lock shared by every thread in the
 * process (Atomics.wait and notify share one). Node can make no anonymous pipe, so each is
 * made with mkfifo(1), opened at both ends and unlinked at once; fds are the process's, so
 * a worker thread uses them by number.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Both ends of one FIFO, as fd numbers valid in every thread of the process. */
export interface FifoEnds {
  /** Blocking: read(2) on it sleeps until a byte comes. */
  readonly read: number;
  /** Non-blocking: a write never stalls the writer (a full pipe means a wake-up is pending anyway). */
  readonly write: number;
}

const ONE_BYTE = new Uint8Array([1]);

/** Makes `count` FIFOs with one mkfifo run (a process start costs milliseconds; a thread's start needs one). */
export function makeFifos(count: number, { nonBlockingRead = false } = {}): FifoEnds[] {
  const dir = mkdtempSync(join(tmpdir(), 'echoplex-blocking-'));
  try {
    const paths = Array.from({ length: count }, (_, index) => join(dir, `fifo${index}`));
    execFileSync('mkfifo', ['-m', '600', ...paths]);
    return paths.map((path) => {
      // O_RDWR: opening a FIFO's read end alone would block until a writer opens it.
      const read = openSync(path, constants.O_RDWR | (nonBlockingRead ? constants.O_NONBLOCK : 0));
      const write = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      return { read, write };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wakes whoever reads the FIFO; a full pipe (EAGAIN) already holds a wake-up, so it is ignored. */
export function ringFifo(fd: number): void {
  try {
    writeSync(fd, ONE_BYTE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  }
}

const drained = Buffer.alloc(64);

/** Blocks the calling thread in read(2) until at least one byte came; takes up to 64 at once. */
export function awaitFifo(fd: number): void {
  readSync(fd, drained, 0, drained.length, null);
}

export function closeFifo(ends: FifoEnds): void {
  closeSync(ends.read);
  closeSync(ends.write);
}
