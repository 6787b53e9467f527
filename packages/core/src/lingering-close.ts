/**
 * How every model closes a socket after its last reply: shut our side, then keep
 * reading and discarding what the peer still sends for a while, because closing with
 * unread input makes the kernel send a reset, which can destroy the reply in flight.
 */
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading (and discarding) so the peer gets our last bytes, not a reset. */
export const LINGER_MS = 2_000;

/** A closing connection discards at most this much input before it gives up and resets. */
export const LINGER_BYTES = 1024 * 1024;

/** Ends our side after what is queued, and takes over the socket's input: discarded, bounded in bytes and time. */
export function closeLingering(socket: Socket): void {
  socket.end();
  socket.removeAllListeners('data');
  let discarded = 0;
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) socket.destroy();
  });
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
