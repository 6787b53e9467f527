/**
 * The memory a handler thread shares with the main thread: per thread, two byte rings
 * (socket -> thread, thread -> socket) and the words the thread sleeps on. Bytes cross
 * threads by copying into these, never as messages, so an ECHO costs no structured clone.
 */

import { awaitFifo, type FifoEnds, ringFifo } from './fifo.js';

/** Each ring holds this much: the "kernel" socket buffer of one direction. A power of two. */
export const RING_BYTES = 64 * 1024;

/** The control words of one thread's buffers, by index into an Int32Array. */
const Word = {
  /** Byte counters (wrapping int32): written by the producer, read by the consumer. */
  inWritten: 0,
  inRead: 1,
  outWritten: 2,
  outRead: 3,
  /** The thread sleeps on this word; the main thread bumps it after any change the thread may wait for. */
  wake: 4,
  /** 1 while the thread sleeps (or is about to), so the main thread only notifies a sleeper. */
  threadWaiting: 5,
  /** PeerState bits, set by the main thread. */
  peer: 6,
  /** Bytes the main thread's node:net socket still holds unsent (its writableLength). */
  socketQueued: 7,
  /** 1 when the thread waits for room in the outbound ring: the main thread wakes it after draining. */
  outBlocked: 8,
  /** 1 when the main thread holds inbound bytes that did not fit: the thread rings after reading. */
  inBlocked: 9,
  /** Message batches the main thread posted on the thread's port, so the thread looks only when there are some. */
  posted: 10,
  /** While the thread sleeps in its FIFO with a timeout: when it must wake, in ms of the main thread's clock (0: never). */
  deadline: 11,
  /** 1 once the process exits: the thread sleeps in Atomics.wait, which Node's exit can interrupt (a read(2) it cannot). */
  exiting: 12,
  /** Bytes of room pushes the thread took off its port (wrapping int32): the main thread holds every socket while too many wait. */
  pushesTaken: 13,
  /** 1 while the main thread holds sockets for this thread's pushes: the thread rings as it takes them. */
  pushesHeld: 14,
} as const;
const CONTROL_WORDS = 16;

export const PeerState = {
  /** The peer sent FIN: once the inbound ring is empty, recv returns b''. */
  ended: 1,
  /** The socket failed or closed under us: recv and sendall raise. */
  reset: 2,
} as const;

/** A single-producer single-consumer byte ring in shared memory. */
export class ByteRing {
  private readonly mask = RING_BYTES - 1;

  constructor(
    private readonly control: Int32Array,
    private readonly writtenWord: number,
    private readonly readWord: number,
    private readonly bytes: Uint8Array,
  ) {}

  get used(): number {
    return (Atomics.load(this.control, this.writtenWord) - Atomics.load(this.control, this.readWord)) | 0;
  }

  get free(): number {
    return RING_BYTES - this.used;
  }

  /** Producer: copies in as much of `source` as fits, and returns how much that was. */
  write(source: Uint8Array): number {
    const written = Atomics.load(this.control, this.writtenWord);
    const count = Math.min(source.length, RING_BYTES - ((written - Atomics.load(this.control, this.readWord)) | 0));
    if (count <= 0) return 0;
    const start = written & this.mask;
    const first = Math.min(count, RING_BYTES - start);
    this.bytes.set(first === source.length ? source : source.subarray(0, first), start);
    if (count > first) this.bytes.set(source.subarray(first, count), 0);
    Atomics.store(this.control, this.writtenWord, (written + count) | 0);
    return count;
  }

  /** Consumer: takes up to `max` bytes out, into a Buffer of its own. */
  read(max: number): Buffer {
    const read = Atomics.load(this.control, this.readWord);
    const count = Math.min(max, (Atomics.load(this.control, this.writtenWord) - read) | 0);
    const out = Buffer.allocUnsafe(Math.max(count, 0));
    if (count <= 0) return out;
    const start = read & this.mask;
    const first = Math.min(count, RING_BYTES - start);
    out.set(this.bytes.subarray(start, start + first), 0);
    if (count > first) out.set(this.bytes.subarray(0, count - first), first);
    Atomics.store(this.control, this.readWord, (read + count) | 0);
    return out;
  }
}

/**
 * How a sleeping side is woken. 'futex': Atomics.wait/notify (one process-wide lock in V8).
 * 'fifo': a blocking read(2) on a named pipe per thread, and one for the main thread.
 */
export type WakeMode = 'futex' | 'fifo';

export const WAKE_MODE: WakeMode = process.env.ECHOPLEX_BLOCKING_WAKE === 'futex' ? 'futex' : 'fifo';

/** Milliseconds on the main thread's clock, from any thread (each thread's performance.now() has an origin of its own). */
export function mainClock(mainOrigin: number): () => number {
  const offset = performance.timeOrigin - mainOrigin;
  return () => offset + performance.now();
}

/** One handler thread's buffers. Reused by each connection the thread serves; reset between them. */
export class ConnectionBuffers {
  readonly control: Int32Array;
  /** Socket -> thread: the main thread writes, the thread's recv reads. */
  readonly inbound: ByteRing;
  /** Thread -> socket: the thread's sendall writes, the main thread reads. */
  readonly outbound: ByteRing;

  constructor(
    readonly shared: SharedArrayBuffer = new SharedArrayBuffer(CONTROL_WORDS * 4 + 2 * RING_BYTES),
    /** The thread's FIFO in 'fifo' mode: it sleeps reading it, the main thread writes a byte to wake it. */
    readonly fifo?: FifoEnds,
    /** The thread's view of the main thread's clock, for its deadline (thread side, 'fifo' mode). */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.control = new Int32Array(shared, 0, CONTROL_WORDS);
    this.inbound = new ByteRing(this.control, Word.inWritten, Word.inRead, new Uint8Array(shared, CONTROL_WORDS * 4, RING_BYTES));
    this.outbound = new ByteRing(
      this.control,
      Word.outWritten,
      Word.outRead,
      new Uint8Array(shared, CONTROL_WORDS * 4 + RING_BYTES, RING_BYTES),
    );
  }

  /** Main thread, while the thread is idle: empty rings and a fresh peer for the next connection. */
  reset(): void {
    for (const word of [
      Word.inWritten,
      Word.inRead,
      Word.outWritten,
      Word.outRead,
      Word.peer,
      Word.socketQueued,
      Word.outBlocked,
      Word.inBlocked,
    ]) {
      Atomics.store(this.control, word, 0);
    }
  }

  // --- main thread side ---

  /** Wakes the thread if it sleeps; call after any change it may be waiting for. */
  wakeThread(): void {
    Atomics.add(this.control, Word.wake, 1);
    if (this.fifo !== undefined) {
      // One byte per sleep: whoever takes the flag down writes it.
      if (Atomics.exchange(this.control, Word.threadWaiting, 0) === 1) ringFifo(this.fifo.write);
    } else if (Atomics.load(this.control, Word.threadWaiting) === 1) Atomics.notify(this.control, Word.wake);
  }

  /**
   * Main thread, as the process exits: Node ends each thread before exiting and waits for it,
   * and a thread blocked in read(2) would never end. So it is woken, and sleeps no more in its FIFO.
   */
  wakeToExit(): void {
    Atomics.store(this.control, Word.exiting, 1);
    if (this.fifo !== undefined) ringFifo(this.fifo.write);
  }

  /** Main thread, 'fifo' mode: wakes the thread if it sleeps past its deadline (`now` on the main thread's clock). */
  wakeIfOverdue(now: number): void {
    const deadline = Atomics.load(this.control, Word.deadline);
    if (deadline === 0 || deadline > now || this.fifo === undefined) return;
    if (Atomics.exchange(this.control, Word.threadWaiting, 0) === 1) ringFifo(this.fifo.write);
  }

  setPeer(state: number): void {
    Atomics.or(this.control, Word.peer, state);
  }

  publishSocketQueued(bytes: number): void {
    Atomics.store(this.control, Word.socketQueued, bytes);
  }

  /** A batch was posted on the thread's port. */
  countPosted(): void {
    Atomics.add(this.control, Word.posted, 1);
  }

  /** Main thread: it holds inbound bytes the ring had no room for. */
  markInboundBlocked(): void {
    Atomics.store(this.control, Word.inBlocked, 1);
  }

  /** Main thread: bytes of pushes posted (`posted`, wrapping) that the thread has not taken yet. */
  pushesWaiting(posted: number): number {
    return (posted - Atomics.load(this.control, Word.pushesTaken)) | 0;
  }

  /** Main thread: while held, the thread rings the doorbell whenever it takes pushes. */
  setPushesHeld(held: boolean): void {
    Atomics.store(this.control, Word.pushesHeld, held ? 1 : 0);
  }

  /** Main thread: whether the thread waits for outbound room (and clears the mark). */
  takeOutboundBlocked(): boolean {
    return Atomics.exchange(this.control, Word.outBlocked, 0) === 1;
  }

  // --- handler thread side ---

  get peer(): number {
    return Atomics.load(this.control, Word.peer);
  }

  get socketQueued(): number {
    return Atomics.load(this.control, Word.socketQueued);
  }

  get postedBatches(): number {
    return Atomics.load(this.control, Word.posted);
  }

  /** Thread: it took `bytes` of pushes off its port; true if the main thread holds sockets for them (ring it). */
  tookPushes(bytes: number): boolean {
    Atomics.add(this.control, Word.pushesTaken, bytes);
    return Atomics.load(this.control, Word.pushesHeld) === 1;
  }

  /** Thread: whether the main thread waits for inbound room (and clears the mark). */
  takeInboundBlocked(): boolean {
    return Atomics.exchange(this.control, Word.inBlocked, 0) === 1;
  }

  /** Thread: it waits for outbound room. */
  markOutboundBlocked(): void {
    Atomics.store(this.control, Word.outBlocked, 1);
  }

  /**
   * Thread, about to sleep: returns the wake counter, to be read before the last look at
   * its conditions; `sleep` then returns at once if the main thread moved it since.
   */
  goingToSleep(): number {
    // Set first, so that a main thread that moves the counter after this sees it must notify.
    Atomics.store(this.control, Word.threadWaiting, 1);
    return Atomics.load(this.control, Word.wake);
  }

  /**
   * Sleeps until the main thread bumps the wake counter past `seen`, or `timeoutMs` passes. Never spins.
   * The waiting flag is raised again here: a blocking call nested in the last look (a push whose
   * sendall blocked, inside recv's wait) lowers it on its way out, and a sleeper with the flag
   * down is never notified (the lost wake-up the slow-consumer stress found).
   */
  sleep(seen: number, timeoutMs: number): void {
    Atomics.store(this.control, Word.threadWaiting, 1);
    if (this.fifo === undefined || Atomics.load(this.control, Word.exiting) === 1) {
      Atomics.wait(this.control, Word.wake, seen, timeoutMs);
      return;
    }
    // The main thread times the sleep: it rings the FIFO once the deadline passed (to within its sweep).
    const deadline = timeoutMs === Number.POSITIVE_INFINITY ? 0 : Math.max(1, Math.ceil(this.clock() + timeoutMs));
    Atomics.store(this.control, Word.deadline, deadline);
    // The counter moved after `seen` was read, with the flag perhaps down (a nested block lowered it): no sleep.
    if (Atomics.load(this.control, Word.wake) === seen) awaitFifo(this.fifo.read);
    Atomics.store(this.control, Word.deadline, 0);
  }

  awake(): void {
    Atomics.store(this.control, Word.threadWaiting, 0);
  }
}
