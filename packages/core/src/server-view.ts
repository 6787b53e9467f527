/** What a session may ask about the whole server (INFO, /metrics): each model answers from wherever its numbers live. */
import type { ServerInfo } from '@echoplex/protocol';

export type { ServerInfo };

export interface ServerView {
  /** The server-wide INFO. */
  info(done: (info: ServerInfo) => void): void;
  /** The server-wide /metrics text. */
  metrics(done: (text: string) => void): void;
}
