/** The text dialect: one request or reply per line, for a person at `nc` or `telnet`. */

import { parseErrorBody, splitFirst } from './binary-dialect.js';
import { ProtocolError } from './errors.js';
import { MAX_WORK_ITERATIONS, type Request, type ServerMessage } from './messages.js';

const SPACE = 0x20;

/** A request only the text dialect has: a person at `nc` asking what to type. */
export interface HelpRequest {
  readonly command: 'HELP';
}

/** The commands `HELP` lists, in the order a newcomer would try them. */
export const TEXT_COMMANDS = ['ECHO', 'PING', 'NICK', 'JOIN', 'SAY', 'WHO', 'LEAVE', 'WORK', 'INFO', 'QUIT', 'HELP'] as const;

/** The file service's commands, which HELP lists when the server has `--files`. */
export const FILE_COMMANDS = ['LIST', 'GET', 'PUT'] as const;

/** Ends every text `ERR UNKNOWN_COMMAND`, so whoever typed the word learns where the list is. */
export const UNKNOWN_COMMAND_HINT = '(HELP lists the commands)';

/** `HELP ECHO PING …`: the reply to HELP, one line like every other reply. */
export function encodeTextHelp(commands: readonly string[] = TEXT_COMMANDS): Buffer {
  return Buffer.from(`HELP ${commands.join(' ')}\n`, 'utf8');
}

/**
 * Server side: one line (without its LF, valid UTF-8) as a request, an error to
 * answer, or `undefined` for an empty line, which is ignored.
 */
export function parseTextRequest(line: Buffer): Request | HelpRequest | ProtocolError | undefined {
  if (line.length === 0) return undefined;
  const space = line.indexOf(SPACE);
  const word = (space === -1 ? line : line.subarray(0, space)).toString('utf8');
  const rest = space === -1 ? line.subarray(line.length) : line.subarray(space + 1);
  switch (word.toUpperCase()) {
    case 'ECHO':
      return { command: 'ECHO', data: rest };
    case 'PING':
      return { command: 'PING', token: rest };
    case 'NICK':
      return { command: 'NICK', nick: rest.toString('utf8') };
    case 'JOIN':
      return { command: 'JOIN', room: rest.toString('utf8') };
    case 'LEAVE':
      return { command: 'LEAVE' };
    case 'SAY':
      return { command: 'SAY', text: rest.toString('utf8') };
    case 'WHO':
      return { command: 'WHO' };
    case 'WORK':
      return parseWork(rest);
    case 'INFO':
      return { command: 'INFO' };
    case 'QUIT':
    case 'BYE':
      return { command: 'QUIT' };
    case 'HELP':
      return { command: 'HELP' };
    case 'LIST':
      return { command: 'LIST' };
    case 'GET':
      return { command: 'GET', name: rest.toString('utf8') };
    case 'PUT':
      return parsePut(rest);
    default:
      return new ProtocolError('UNKNOWN_COMMAND', `${word} ${UNKNOWN_COMMAND_HINT}`);
  }
}

function parseWork(args: Buffer): Request | ProtocolError {
  const space = args.indexOf(SPACE);
  const count = (space === -1 ? args : args.subarray(0, space)).toString('utf8');
  const data = space === -1 ? args.subarray(args.length) : args.subarray(space + 1);
  const iterations = /^\d{1,7}$/.test(count) ? Number(count) : Number.NaN;
  if (!(iterations >= 1 && iterations <= MAX_WORK_ITERATIONS)) {
    return new ProtocolError('BAD_ARGUMENT', `WORK iterations must be 1..${MAX_WORK_ITERATIONS}, got '${count}'`);
  }
  return { command: 'WORK', iterations, data };
}

/** `PUT <name> <size>`: the name as sent (the session checks it once the bytes are read), the size in decimal. */
function parsePut(args: Buffer): Request | ProtocolError {
  const text = args.toString('utf8');
  const space = text.lastIndexOf(' ');
  const size = space === -1 ? '' : text.slice(space + 1);
  if (!/^\d{1,15}$/.test(size)) return new ProtocolError('BAD_ARGUMENT', `PUT needs <name> <size in bytes>, got '${text.slice(0, 80)}'`);
  return { command: 'PUT', name: text.slice(0, space), size: Number(size) };
}

/** `WORD` alone when the argument is empty, `WORD argument` otherwise. */
const line = (word: string, argument = ''): Buffer => Buffer.from(argument === '' ? `${word}\n` : `${word} ${argument}\n`, 'utf8');

function lineWithBytes(word: string, argument: Uint8Array): Buffer {
  if (argument.length === 0) return Buffer.from(`${word}\n`, 'latin1');
  const out = Buffer.allocUnsafe(word.length + 2 + argument.length);
  out.write(word, 0, 'latin1');
  out[word.length] = SPACE;
  out.set(argument, word.length + 1);
  out[out.length - 1] = 0x0a;
  return out;
}

/** Server side: one reply or push as a line. */
export function encodeTextMessage(message: ServerMessage): Buffer {
  switch (message.kind) {
    case 'ECHO':
      return lineWithBytes('ECHO', message.data);
    case 'PONG':
      return lineWithBytes('PONG', message.token);
    case 'NICK':
      return line('OK NICK', message.nick);
    case 'JOIN':
      return line('OK JOIN', message.room);
    case 'LEAVE':
      return line('OK LEAVE', message.room);
    case 'WHO':
      return line('WHO', [message.room, ...message.nicks].join(' '));
    case 'WORK':
      return line('WORK', Buffer.from(message.digest).toString('hex'));
    case 'INFO':
      return line('INFO', message.json);
    case 'BYE':
      return line('BYE');
    case 'ERR':
      return line('ERR', message.error.toString());
    case 'MSG':
      return line('MSG', `${message.room} ${message.nick} ${message.text}`);
    case 'JOINED':
      return line('JOINED', `${message.room} ${message.nick}`);
    case 'LEFT':
      return line('LEFT', `${message.room} ${message.nick}`);
  }
}

/** Client side: one request as a line. */
export function formatTextRequest(request: Request): Buffer {
  switch (request.command) {
    case 'ECHO':
      return lineWithBytes('ECHO', request.data);
    case 'PING':
      return lineWithBytes('PING', request.token);
    case 'NICK':
      return line('NICK', request.nick);
    case 'JOIN':
      return line('JOIN', request.room);
    case 'SAY':
      return line('SAY', request.text);
    case 'WORK':
      return line('WORK', `${request.iterations} ${Buffer.from(request.data).toString('utf8')}`);
    case 'GET':
      return line('GET', request.name);
    case 'PUT':
      // The line alone: the caller sends `size` raw bytes after it.
      return line('PUT', `${request.name} ${request.size}`);
    case 'LEAVE':
    case 'WHO':
    case 'INFO':
    case 'QUIT':
    case 'LIST':
      return line(request.command);
  }
}

/** Client side: a server's line as a reply or push. Throws `ProtocolError` on an unknown one. */
export function parseTextMessage(text: string): ServerMessage {
  const [word, rest] = splitFirst(text);
  switch (word) {
    case 'ECHO':
      return { kind: 'ECHO', data: Buffer.from(rest, 'utf8') };
    case 'PONG':
      return { kind: 'PONG', token: Buffer.from(rest, 'utf8') };
    case 'OK': {
      const [what, arg] = splitFirst(rest);
      if (what === 'NICK') return { kind: 'NICK', nick: arg };
      if (what === 'JOIN') return { kind: 'JOIN', room: arg };
      if (what === 'LEAVE') return { kind: 'LEAVE', room: arg };
      break;
    }
    case 'WHO': {
      const [room = '', ...nicks] = rest.split(' ');
      return { kind: 'WHO', room, nicks };
    }
    case 'WORK':
      return { kind: 'WORK', digest: Buffer.from(rest, 'hex') };
    case 'INFO':
      return { kind: 'INFO', json: rest };
    case 'BYE':
      return { kind: 'BYE' };
    case 'ERR':
      return { kind: 'ERR', error: parseErrorBody(rest) };
    case 'MSG': {
      const [room, after] = splitFirst(rest);
      const [nick, message] = splitFirst(after);
      return { kind: 'MSG', room, nick, text: message };
    }
    case 'JOINED':
    case 'LEFT': {
      const [room, nick] = splitFirst(rest);
      return { kind: word, room, nick };
    }
  }
  throw new ProtocolError('BAD_FRAME', `unknown server line: ${text.slice(0, 80)}`);
}
