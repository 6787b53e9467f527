/**
 * The session's idle timer as every transport runs it: armed, re-armed and disarmed by
 * the session, and held while the transport has stopped reading because the peer does
 * not take its output, since time the server chose not to read does not count against
 * the client.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  /** It expired while held: the expiry waits for `release`, which restarts the clock. */
  private deferred = false;

  constructor(private readonly onExpiry: () => void) {}

  /** `SessionTransport.setTimer`: arm for `ms` (every arm uses the same duration), or disarm. */
  set(ms: number | undefined): void {
    this.deferred = false;
    if (ms === undefined) return this.clear();
    if (this.timer !== undefined) this.timer.refresh();
    else this.timer = setTimeout(() => this.expire(), ms);
  }

  /** Reading stopped for backpressure. */
  hold(): void {
    this.held = true;
  }

  /** Reading resumed: an expiry that came while held starts a fresh period. */
  release(): void {
    this.held = false;
    if (!this.deferred) return;
    this.deferred = false;
    this.timer?.refresh();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.deferred = false;
  }

  private expire(): void {
    if (this.held) this.deferred = true;
    else this.onExpiry();
  }
}
