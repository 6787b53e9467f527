/** The typed messages of the protocol, independent of the dialect that carried them. */
import type { ProtocolError } from './errors.js';

/** What a client asks for. Binary bodies stay bytes; text that must be UTF-8 is a string. */
export type Request =
  | { readonly command: 'ECHO'; readonly data: Uint8Array }
  | { readonly command: 'PING'; readonly token: Uint8Array }
  | { readonly command: 'NICK'; readonly nick: string }
  | { readonly command: 'JOIN'; readonly room: string }
  | { readonly command: 'LEAVE' }
  | { readonly command: 'SAY'; readonly text: string }
  | { readonly command: 'WHO' }
  | { readonly command: 'WORK'; readonly iterations: number; readonly data: Uint8Array }
  | { readonly command: 'INFO' }
  | { readonly command: 'QUIT' }
  | { readonly command: 'LIST' }
  | { readonly command: 'GET'; readonly name: string }
  /**
   * `size` bytes of file follow: in binary they came in the frame (`data`); in text they
   * follow the line as raw bytes, so `data` is absent and the session reads them next.
   */
  | { readonly command: 'PUT'; readonly name: string; readonly size: number; readonly data?: Uint8Array };

export type Command = Request['command'];

/** What the server answers to the sender of a request. */
export type Reply =
  | { readonly kind: 'ECHO'; readonly data: Uint8Array }
  | { readonly kind: 'PONG'; readonly token: Uint8Array }
  | { readonly kind: 'NICK'; readonly nick: string }
  | { readonly kind: 'JOIN'; readonly room: string }
  | { readonly kind: 'LEAVE'; readonly room: string }
  | { readonly kind: 'WHO'; readonly room: string; readonly nicks: readonly string[] }
  | { readonly kind: 'WORK'; readonly digest: Uint8Array }
  | { readonly kind: 'INFO'; readonly json: string }
  | { readonly kind: 'BYE' }
  | { readonly kind: 'ERR'; readonly error: ProtocolError };

/** What the server pushes to a room's members without being asked. */
export type Push =
  | { readonly kind: 'MSG'; readonly room: string; readonly nick: string; readonly text: string }
  | { readonly kind: 'JOINED'; readonly room: string; readonly nick: string }
  | { readonly kind: 'LEFT'; readonly room: string; readonly nick: string };

/** Everything a server may send on the binary and text dialects. */
export type ServerMessage = Reply | Push;

/** `WORK` iteration bounds: `1 <= n <= 1,000,000`. */
export const MAX_WORK_ITERATIONS = 1_000_000;

/** The protocol version INFO reports. */
export const PROTOCOL_VERSION = 1;

/** INFO's JSON: the fields PROTOCOL.md requires; servers add `servedBy` and their model's own. */
export interface ServerInfo {
  readonly model: string;
  readonly pid: number;
  readonly threads: number;
  readonly processes: number;
  readonly connections: number;
  readonly uptimeSeconds: number;
  readonly protocol: typeof PROTOCOL_VERSION;
  readonly [extra: string]: unknown;
}
