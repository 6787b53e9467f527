/** What a session may ask about the whole server (INFO, /metrics): each model answers from wherever its numbers live. */

/** INFO's JSON: the fields PROTOCOL.md requires, plus `servedBy` and the model's own. */
export interface ServerInfo {
  readonly model: string;
  readonly pid: number;
  readonly threads: number;
  readonly processes: number;
  readonly connections: number;
  readonly uptimeSeconds: number;
  readonly protocol: 1;
  readonly [extra: string]: unknown;
}

export interface ServerView {
  /** The server-wide INFO. */
  info(done: (info: ServerInfo) => void): void;
  /** The server-wide /metrics text. */
  metrics(done: (text: string) => void): void;
}
