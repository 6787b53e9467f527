/** WORK, the CPU-bound request: iterated SHA-256, so every model has the same unit of CPU to schedule. */
import { createHash } from 'node:crypto';

/** `d0 = data`, `d(i+1) = sha256(d(i))`; returns `d(n)` (32 bytes for n >= 1). */
export function iteratedSha256(data: Uint8Array, iterations: number): Buffer {
  let digest: Buffer = Buffer.from(data);
  for (let i = 0; i < iterations; i++) digest = createHash('sha256').update(digest).digest();
  return digest;
}
