/**
 * One loop turn's output for one connection, joined into one buffer for its one write; and since
 * a room's members get the same pushes in a turn, the same pieces in the same order are joined
 * once for all of them, as SharedPush encodes a push once. Profiled (docs/fanout-profile.md),
 * Buffer.concat per member was 13 % of event-loop's CPU at fan-out m100.
 */
import { emptyKeepingCapacity } from './session.js';

export class TurnBytes {
  /** The pieces last joined, and what they became: valid while those buffers are not written to, which no one does once queued. */
  private readonly lastPieces: Uint8Array[] = [];
  private lastJoined: Buffer | undefined;

  /** `pieces` as one buffer (`bytes` long): the one last joined when it holds the same buffers, in the same order. */
  join(pieces: readonly Uint8Array[], bytes: number): Buffer {
    const last = this.lastPieces;
    if (this.lastJoined !== undefined && last.length === pieces.length && this.lastJoined.length === bytes) {
      let same = true;
      for (let i = 0; i < pieces.length; i++) {
        if (last[i] !== pieces[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastJoined;
    }
    const joined = Buffer.concat(pieces, bytes);
    emptyKeepingCapacity(last);
    for (let i = 0; i < pieces.length; i++) last.push(pieces[i] as Uint8Array);
    this.lastJoined = joined;
    return joined;
  }

  /** The end of a turn: nothing is kept alive into the next. */
  forget(): void {
    emptyKeepingCapacity(this.lastPieces);
    this.lastJoined = undefined;
  }
}
