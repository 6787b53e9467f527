/**
 * The Hub: rooms and nicks across the whole server. Sessions talk to it through this
 * interface only, so each concurrency model can put the authority where it fits (in
 * process, on the main thread, in the parent process) without the session knowing.
 */
import { encodeBinaryMessage, encodeTextMessage, type ProtocolError, type Push } from '@echoplex/protocol';
import type { ServerStats } from './stats.js';

export type HubResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ProtocolError };

/**
 * One push on its way to members: a hub makes one per broadcast and hands that same object to
 * every member, so each dialect's bytes are encoded once (by the first member in it) and every
 * other member in that dialect gets those very bytes, not a copy.
 */
export class SharedPush {
  private binary: Buffer | undefined;
  private text: Buffer | undefined;

  constructor(readonly push: Push) {}

  /** The push's bytes in a chat dialect; an encoding it had to make counts in `stats.pushEncodings`. */
  bytes(dialect: 'binary' | 'text', stats: Pick<ServerStats, 'pushEncodings'>): Buffer {
    const encoded = dialect === 'binary' ? this.binary : this.text;
    if (encoded !== undefined) return encoded;
    stats.pushEncodings += 1;
    if (dialect === 'binary') {
      this.binary = encodeBinaryMessage(this.push);
      return this.binary;
    }
    this.text = encodeTextMessage(this.push);
    return this.text;
  }
}

/** A connection as the hub sees it: an id unique across the whole server, and a way to push to it. */
export interface HubMember {
  readonly id: number;
  deliver(push: SharedPush): void;
}

export interface RoomMembers {
  readonly room: string;
  /** Sorted by byte value. */
  readonly nicks: readonly string[];
}

/**
 * Every call is asynchronous in general (the authority may be another thread or
 * process) and may also complete synchronously; callers must accept both. Calls from
 * one member are applied in the order they are made, which is what keeps each
 * sender's messages in order.
 */
export interface Hub {
  /** Registers a connection under its guest nick, `guest-<id>`. */
  attach(member: HubMember): void;
  /** A disconnect: leaves the room (members get LEFT) and frees the nick. */
  detach(id: number): void;
  /** Claims a nick, already checked to be claimable. Fails with NICK_TAKEN. */
  setNick(id: number, nick: string, done: (result: HubResult<string>) => void): void;
  /** Joins a room (leaving the current one first); yields the room joined. */
  join(id: number, room: string, done: (result: HubResult<string>) => void): void;
  /** Leaves the current room; yields the room left. Fails with NOT_IN_ROOM. */
  leave(id: number, done: (result: HubResult<string>) => void): void;
  /** Sends MSG to the other members of the sender's room. One-way: the session knows it is in a room. */
  say(id: number, text: string): void;
  /** The sender's room and its members. Fails with NOT_IN_ROOM. */
  who(id: number, done: (result: HubResult<RoomMembers>) => void): void;
  /** Any room's members (empty for a room nobody is in). */
  members(room: string, done: (result: HubResult<RoomMembers>) => void): void;
  /** A message from outside the room (HTTP): MSG to every member. */
  post(room: string, nick: string, text: string): void;
  /**
   * Why chat cannot be served now (ERR UNAVAILABLE: a hub across servers whose Redis is away),
   * or undefined. Checked before the one-way calls, `say` and `post`; the others fail through `done`.
   */
  unavailable(): ProtocolError | undefined;
}
