/**
 * The few words a handler thread shares with the main thread, so that neither needs a message
 * for them: batches posted on its port (the thread looks only when some are), the push window's
 * counters and hold (a thread too far behind on pushes stops every socket being read), and the
 * exit flag (a thread blocked in poll(2) cannot be stopped by Node's exit, so it is woken first).
 */

const Word = {
  /** Message batches the main thread posted on the thread's port. */
  posted: 0,
  /** Bytes of room pushes the thread took off its port (wrapping int32). */
  pushesTaken: 1,
  /** 1 while the main thread holds every socket's reading for pushes: no thread recvs, and a thread that takes pushes says so. */
  held: 2,
  /** 1 once the process exits: the thread must not block in poll(2) again. */
  exiting: 3,
} as const;
const WORDS = 4;

export class ThreadControl {
  private readonly words: Int32Array;

  constructor(readonly shared = new SharedArrayBuffer(WORDS * 4)) {
    this.words = new Int32Array(shared);
  }

  // --- main thread side ---

  countPosted(): void {
    Atomics.add(this.words, Word.posted, 1);
  }

  /** Bytes of pushes posted (`posted`, wrapping) that the thread has not taken yet. */
  pushesWaiting(posted: number): number {
    return (posted - Atomics.load(this.words, Word.pushesTaken)) | 0;
  }

  setHeld(held: boolean): void {
    Atomics.store(this.words, Word.held, held ? 1 : 0);
  }

  setExiting(): void {
    Atomics.store(this.words, Word.exiting, 1);
  }

  // --- handler thread side ---

  get postedBatches(): number {
    return Atomics.load(this.words, Word.posted);
  }

  get held(): boolean {
    return Atomics.load(this.words, Word.held) === 1;
  }

  get exiting(): boolean {
    return Atomics.load(this.words, Word.exiting) === 1;
  }

  /** It took `bytes` of pushes off its port; true while reading is held (the main thread must hear of it). */
  tookPushes(bytes: number): boolean {
    Atomics.add(this.words, Word.pushesTaken, bytes);
    return this.held;
  }

  /** The process exits: block where Node's exit can end the thread (Atomics.wait), never in poll(2) again. */
  parkForExit(): never {
    for (;;) Atomics.wait(this.words, Word.exiting, 1);
  }
}
