/**
 * The sans-IO datagram server: a request's bytes in, the reply's bytes out. No state
 * outlives a datagram, so any thread or process holding a DatagramHandler can answer any
 * datagram: that is what lets each model pick its own UDP strategy.
 */
import {
  type DatagramLimits,
  type DatagramRequest,
  decodeDatagramRequest,
  encodeDatagramHelp,
  encodeDatagramReply,
  iteratedSha256,
  type Reply,
} from '@echoplex/protocol';
import type { ServerInfo, ServerView } from './server-view.js';
import type { ServerStats } from './stats.js';

export interface DatagramHandlerOptions {
  readonly limits: DatagramLimits;
  readonly server: ServerView;
  readonly stats: ServerStats;
  /** Which thread or process answers, reported by INFO. */
  readonly servedBy: string;
}

/** Called once per datagram: the reply's bytes, or undefined when the datagram gets no answer (an empty one). */
export type DatagramAnswer = (reply: Buffer | undefined) => void;

export class DatagramHandler {
  constructor(private readonly options: DatagramHandlerOptions) {}

  /** `handle`, bound: what a DatagramEndpoint is given to serve each datagram on this thread. */
  readonly serve = (datagram: Buffer, answer: DatagramAnswer): void => this.handle(datagram, answer);

  /** Answers one datagram; `answer` runs at once, or later for INFO (which asks the whole server). Never throws on bad input. */
  handle(datagram: Buffer, answer: DatagramAnswer): void {
    const { stats, limits } = this.options;
    const decoded = decodeDatagramRequest(datagram, limits);
    if (decoded.kind === 'empty') {
      answer(undefined);
      return;
    }
    if (decoded.kind === 'error') {
      stats.countRequest(decoded.dialect, decoded.command ?? 'UNKNOWN');
      stats.countError(decoded.error.code);
      answer(encodeDatagramReply(decoded.dialect, { kind: 'ERR', error: decoded.error }).bytes);
      return;
    }
    const { dialect, request } = decoded;
    stats.countRequest(dialect, request.command);
    if (request.command === 'HELP') {
      answer(encodeDatagramHelp());
      return;
    }
    this.reply(request, (reply) => {
      const { bytes, tooLarge } = encodeDatagramReply(dialect, reply);
      if (tooLarge) stats.countError('TOO_LARGE');
      answer(bytes);
    });
  }

  private reply(request: Exclude<DatagramRequest, { command: 'HELP' }>, done: (reply: Reply) => void): void {
    switch (request.command) {
      case 'ECHO':
        return done({ kind: 'ECHO', data: request.data });
      case 'PING':
        return done({ kind: 'PONG', token: request.token });
      case 'WORK':
        return done({ kind: 'WORK', digest: iteratedSha256(request.data, request.iterations) });
      case 'INFO':
        return this.options.server.info((info: ServerInfo) =>
          done({ kind: 'INFO', json: JSON.stringify({ ...info, servedBy: this.options.servedBy, transport: 'udp' }) }),
        );
    }
  }
}
