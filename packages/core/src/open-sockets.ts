/**
 * What a drain waits for, written once for every model: the sockets still open (closing
 * ones too), until the last one closes or the drain timeout passes; those left are destroyed.
 */
export class OpenSockets<T> implements Iterable<T> {
  private readonly open = new Set<T>();
  private allClosed: (() => void) | undefined;

  /** `destroy`: how an entry's socket is cut when the time is up. */
  constructor(private readonly destroy: (entry: T) => void) {}

  get size(): number {
    return this.open.size;
  }

  add(entry: T): void {
    this.open.add(entry);
  }

  /** Its socket closed: the drain may be over. */
  delete(entry: T): void {
    if (this.open.delete(entry) && this.open.size === 0) this.allClosed?.();
  }

  [Symbol.iterator](): Iterator<T> {
    return this.open.values();
  }

  /** Resolves once every socket closed, or once `timeoutMs` passed, with those left destroyed. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.allClosed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const entry of [...this.open]) this.destroy(entry);
  }
}
