/**
 * UDP in the coroutine model: one async loop over the socket (`await recvfrom()`), and each
 * datagram answered by a coroutine of its own (`await handle`, then `sendto`), as gevent's
 * DatagramServer spawns a greenlet per datagram. The loop is the only reader, so datagrams
 * that arrive faster than it runs wait in a bounded inbox; past it they are dropped, as a
 * kernel drops them past its receive buffer.
 */
import type { DatagramHandler } from '@echoplex/core';
import type { DatagramServe } from '@echoplex/core/node';

/** A datagram as `recvfrom` returns it, with the way back to its sender. */
interface Received {
  readonly datagram: Buffer;
  readonly sendto: (reply: Buffer | undefined) => void;
}

/** Datagrams received and not yet taken by the loop, at most. */
const INBOX_LIMIT = 4096;

export class DatagramCoroutine {
  private readonly inbox: Received[] = [];
  private waiting: ((received: Received | undefined) => void) | undefined;
  private closed = false;

  constructor(private readonly handler: DatagramHandler) {}

  /** What the UDP socket calls with each datagram: into the inbox, or dropped when it is full. */
  readonly deliver: DatagramServe = (datagram, sendto) => {
    if (this.closed || this.inbox.length >= INBOX_LIMIT) return sendto(undefined);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting !== undefined) waiting({ datagram, sendto });
    else this.inbox.push({ datagram, sendto });
  };

  /** The next datagram, or undefined once the socket is closed. */
  recvfrom(): Promise<Received | undefined> {
    const next = this.inbox.shift();
    if (next !== undefined || this.closed) return Promise.resolve(next);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The loop: runs until `close`. */
  async run(): Promise<void> {
    for (let received = await this.recvfrom(); received !== undefined; received = await this.recvfrom()) {
      void this.answer(received);
    }
  }

  close(): void {
    this.closed = true;
    for (const received of this.inbox.splice(0)) received.sendto(undefined);
    this.waiting?.(undefined);
    this.waiting = undefined;
  }

  private async answer({ datagram, sendto }: Received): Promise<void> {
    const reply = await new Promise<Buffer | undefined>((resolve) => this.handler.handle(datagram, resolve));
    sendto(reply);
  }
}
