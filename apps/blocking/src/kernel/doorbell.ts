/**
 * The main thread's doorbell: threads ring it when their rings changed, the main thread
 * then moves their bytes. One bit per thread, so many rings before the main thread looks
 * cost one wake-up.
 */
import { Socket } from 'node:net';
import { type FifoEnds, makeFifos, ringFifo } from './fifo.js';
import { WAKE_MODE } from './shared-buffers.js';

/** The doorbell's words: the counter the main thread waits on, its awake flag, then the bits. */
const BELL_COUNTER = 0;
const BELL_AWAKE = 1;
const BELL_BITS = 2;

/**
 * The main thread's doorbell: (in 'fifo' mode, a FIFO it reads in its event loop; else) a counter it waits on asynchronously, and one bit per thread
 * saying "look at my buffers". A thread that finds its bit already set knows the main
 * thread has yet to look, and does not notify again: many writes, one wake-up. Nor does it
 * notify while the main thread is awake and bound to look before it sleeps (`whileAwake`).
 */
export class Doorbell {
  private readonly words: Int32Array;
  private service: (slot: number) => void = () => {};

  constructor(
    readonly shared: SharedArrayBuffer,
    /** 'fifo' mode: threads write a byte to it, the main thread reads it as a socket. */
    readonly fifo?: FifoEnds,
  ) {
    this.words = new Int32Array(shared);
  }

  /** A doorbell with a bit for each of up to `threads` threads. */
  static forThreads(threads: number): Doorbell {
    const fifo = WAKE_MODE === 'fifo' ? makeFifos(1, { nonBlockingRead: true })[0] : undefined;
    return new Doorbell(new SharedArrayBuffer(4 * (BELL_BITS + Math.ceil(threads / 32))), fifo);
  }

  /** Thread side: asks the main thread to service thread `slot`. */
  ring(slot: number): void {
    const mask = 1 << (slot & 31);
    const previous = Atomics.or(this.words, BELL_BITS + (slot >> 5), mask);
    if ((previous & mask) !== 0) return;
    // Read after the bit is set: a main thread still awake sees the bit when it looks.
    if (Atomics.load(this.words, BELL_AWAKE) === 1) return;
    if (this.fifo !== undefined) return ringFifo(this.fifo.write);
    Atomics.add(this.words, BELL_COUNTER, 1);
    Atomics.notify(this.words, BELL_COUNTER);
  }

  /** Main thread: runs `service(slot)` for every slot that rang, forever, sleeping between rings without blocking the event loop. */
  async watch(service: (slot: number) => void): Promise<never> {
    this.service = service;
    if (this.fifo !== undefined) {
      // Read as a pipe in the event loop: each turn's bytes, however many threads rang, are one 'data' event.
      const bell = new Socket({ fd: this.fifo.read, readable: true, writable: false });
      bell.on('data', () => this.serviceRung());
      bell.unref();
      return new Promise<never>(() => {});
    }
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
