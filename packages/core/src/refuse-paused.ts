/**
 * Turning away a connection accepted paused (pauseOnConnect) that no thread or child took:
 * nothing has read it yet, so its first bytes are read now to answer in their dialect,
 * written once in one socket by blocking's pool and forking's parents alike.
 */
import type { Socket } from 'node:net';
import { closeLingering } from './lingering-close.js';
import { refusalBytes } from './refusal.js';

/** How long a refusal waits for the first bytes that name the dialect; none by then: text. */
export const SNIFF_GRACE_MS = 50;

/**
 * Answers one error in the dialect of what the socket sent and closes it (lingering, so the
 * answer arrives); one that sent nothing at SIGTERM is just closed. `countError` is called
 * once the answer goes out. Resolves when the socket has closed.
 */
export function refusePausedSocket(
  socket: Socket,
  code: 'BUSY' | 'SHUTTING_DOWN',
  message: string,
  countError: (code: 'BUSY' | 'SHUTTING_DOWN') => void,
): Promise<void> {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received: Buffer[] = [];
  const answer = (): void => {
    clearTimeout(grace);
    socket.removeListener('data', collect);
    if (socket.destroyed) return;
    if (received.length === 0 && code === 'SHUTTING_DOWN') {
      socket.destroy();
      return;
    }
    countError(code);
    socket.write(refusalBytes(Buffer.concat(received), code, message));
    closeLingering(socket);
  };
  const collect = (chunk: Buffer): void => {
    received.push(chunk);
    answer();
  };
  const grace = setTimeout(answer, SNIFF_GRACE_MS);
  socket.on('data', collect);
  socket.resume();
  return closed;
}
