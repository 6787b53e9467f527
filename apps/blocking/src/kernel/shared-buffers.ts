/**
 * The memory a handler thread shares with the main thread: per thread, two byte rings
 * (socket -> thread, thread -> socket) and the words each side sleeps on; for the whole
 * server, one doorbell the threads ring when they want the main thread. Bytes cross
 * threads by copying into these, never as messages, so an ECHO costs no structured clone.
 */

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

/** One handler thread's buffers. Reused by each connection the thread serves; reset between them. */
export class ConnectionBuffers {
  readonly control: Int32Array;
  /** Socket -> thread: the main thread writes, the thread's recv reads. */
  readonly inbound: ByteRing;
  /** Thread -> socket: the thread's sendall writes, the main thread reads. */
  readonly outbound: ByteRing;

  constructor(readonly shared: SharedArrayBuffer = new SharedArrayBuffer(CONTROL_WORDS * 4 + 2 * RING_BYTES)) {
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
    if (Atomics.load(this.control, Word.threadWaiting) === 1) Atomics.notify(this.control, Word.wake);
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

  /** Sleeps until the main thread bumps the wake counter past `seen`, or `timeoutMs` passes. Never spins. */
  sleep(seen: number, timeoutMs: number): void {
    Atomics.wait(this.control, Word.wake, seen, timeoutMs);
  }

  awake(): void {
    Atomics.store(this.control, Word.threadWaiting, 0);
  }
}

/** The doorbell's words: the counter the main thread waits on, its awake flag, then the bits. */
const BELL_COUNTER = 0;
const BELL_AWAKE = 1;
const BELL_BITS = 2;

/**
 * The main thread's doorbell: a counter it waits on asynchronously, and one bit per thread
 * saying "look at my buffers". A thread that finds its bit already set knows the main
 * thread has yet to look, and does not notify again: many writes, one wake-up. Nor does it
 * notify while the main thread is awake and bound to look before it sleeps (`whileAwake`).
 */
export class Doorbell {
  private readonly words: Int32Array;
  private service: (slot: number) => void = () => {};

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared);
  }

  /** A doorbell with a bit for each of up to `threads` threads. */
  static forThreads(threads: number): Doorbell {
    return new Doorbell(new SharedArrayBuffer(4 * (BELL_BITS + Math.ceil(threads / 32))));
  }

  /** Thread side: asks the main thread to service thread `slot`. */
  ring(slot: number): void {
    const mask = 1 << (slot & 31);
    const previous = Atomics.or(this.words, BELL_BITS + (slot >> 5), mask);
    if ((previous & mask) !== 0) return;
    // Read after the bit is set: a main thread still awake sees the bit when it looks.
    if (Atomics.load(this.words, BELL_AWAKE) === 1) return;
    Atomics.add(this.words, BELL_COUNTER, 1);
    Atomics.notify(this.words, BELL_COUNTER);
  }

  /** Main thread: runs `service(slot)` for every slot that rang, forever, sleeping between rings without blocking the event loop. */
  async watch(service: (slot: number) => void): Promise<never> {
    this.service = service;
    for (;;) {
      const seen = Atomics.load(this.words, BELL_COUNTER);
      this.serviceRung();
      const waiting = Atomics.waitAsync(this.words, BELL_COUNTER, seen);
      if (waiting.async) await waiting.value;
    }
  }

  /**
   * Main thread: runs `work` (waking threads, which on one core run at once, preempting
   * it), then services the threads that rang meanwhile. They need not wake it: each wake
   * is a task, a promise and a new waitAsync on the main thread.
   */
  whileAwake(work: () => void): void {
    Atomics.store(this.words, BELL_AWAKE, 1);
    try {
      work();
    } finally {
      Atomics.store(this.words, BELL_AWAKE, 0);
    }
    this.serviceRung();
  }

  private serviceRung(): void {
    for (let word = BELL_BITS; word < this.words.length; word++) {
      let bits = Atomics.exchange(this.words, word, 0);
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        this.service((word - BELL_BITS) * 32 + bit);
      }
    }
  }
}
