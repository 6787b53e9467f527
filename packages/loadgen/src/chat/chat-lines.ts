/** What the terminal chat shows for each thing the server pushes or answers, and what a typed line means. */
import type { Push } from '@echoplex/protocol';
import { fileNameProblem } from '../files/file-name.js';

export type TypedLine =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'join'; readonly room: string }
  | { readonly kind: 'nick'; readonly nick: string }
  | { readonly kind: 'who' }
  | { readonly kind: 'leave' }
  | { readonly kind: 'ls' }
  /** `name` follows the file-name rule: checked here, so nothing is asked for or written otherwise. */
  | { readonly kind: 'get'; readonly name: string }
  | { readonly kind: 'put'; readonly path: string }
  | { readonly kind: 'bye' }
  | { readonly kind: 'help' }
  /** A `/word` the client does not know, or one missing its argument: refused here, never sent to the room. */
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'nothing' };

/** What `/help` prints. */
export const CHAT_COMMANDS_HELP = [
  'Type a line to say it to the room. Commands:',
  '  /join ROOM   join ROOM (leaving the one you are in)',
  '  /nick NAME   take the nick NAME',
  '  /who         list the members of your room',
  '  /leave       leave your room',
  '  /ls          list the files the server serves (its --files DIR)',
  '  /get NAME    download NAME into the current directory (replacing a file of that name)',
  '  /put PATH    upload the file at PATH under its base name',
  '  /help        this list',
  '  /quit, bye   leave and exit',
  'A line starting with // is said with one / (//shrug says /shrug).',
].join('\n');

const takesArgument = (command: string, rest: string, usage: string): TypedLine | undefined =>
  rest === '' ? { kind: 'refused', reason: `${command} needs an argument: ${usage}` } : undefined;

/** `bye` (or `/quit`) leaves, `/join ROOM`, `/nick NAME`, `/who`, `/leave`, `/ls`, `/get NAME`, `/put PATH`, `/help`; other `/words` are refused; anything else is said. */
export function readTypedLine(line: string): TypedLine {
  const text = line.replace(/\r$/, '');
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'nothing' };
  if (trimmed === 'bye') return { kind: 'bye' };
  if (trimmed.startsWith('//')) return { kind: 'say', text: text.slice(text.indexOf('/') + 1) };
  if (!trimmed.startsWith('/')) return { kind: 'say', text };
  const space = trimmed.indexOf(' ');
  const command = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : trimmed.slice(space + 1).trim();
  switch (command) {
    case '/quit':
    case '/bye':
    case '/exit':
      return { kind: 'bye' };
    case '/help':
      return { kind: 'help' };
    case '/who':
      return { kind: 'who' };
    case '/leave':
      return { kind: 'leave' };
    case '/join':
      return takesArgument(command, rest, '/join lobby') ?? { kind: 'join', room: rest };
    case '/nick':
      return takesArgument(command, rest, '/nick alice') ?? { kind: 'nick', nick: rest };
    case '/ls':
      return { kind: 'ls' };
    case '/get': {
      const problem = rest === '' ? undefined : fileNameProblem(rest);
      if (problem !== undefined) return { kind: 'refused', reason: `/get refused: ${problem}` };
      return takesArgument(command, rest, '/get notes.txt') ?? { kind: 'get', name: rest };
    }
    case '/put':
      return takesArgument(command, rest, '/put ./notes.txt') ?? { kind: 'put', path: rest };
    default:
      return { kind: 'refused', reason: `unknown command ${command} (not sent; /help lists the commands, // says a line starting with /)` };
  }
}

export function formatPush(push: Push): string {
  switch (push.kind) {
    case 'MSG':
      return `[${push.room}] <${push.nick}> ${push.text}`;
    case 'JOINED':
      return `[${push.room}] * ${push.nick} joined`;
    case 'LEFT':
      return `[${push.room}] * ${push.nick} left`;
  }
}
