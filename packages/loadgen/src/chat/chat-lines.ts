/** What the terminal chat shows for each thing the server pushes or answers, and what a typed line means. */
import type { Push } from '@echoplex/protocol';

export type TypedLine =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'join'; readonly room: string }
  | { readonly kind: 'nick'; readonly nick: string }
  | { readonly kind: 'who' }
  | { readonly kind: 'leave' }
  | { readonly kind: 'bye' }
  | { readonly kind: 'nothing' };

/** `bye` (or `/quit`) leaves, `/join ROOM`, `/nick NAME`, `/who`, `/leave`; anything else is said to the room. */
export function readTypedLine(line: string): TypedLine {
  const text = line.replace(/\r$/, '');
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'nothing' };
  if (trimmed === 'bye' || trimmed === '/quit' || trimmed === '/bye') return { kind: 'bye' };
  if (trimmed === '/who') return { kind: 'who' };
  if (trimmed === '/leave') return { kind: 'leave' };
  if (trimmed.startsWith('/join ')) return { kind: 'join', room: trimmed.slice('/join '.length).trim() };
  if (trimmed.startsWith('/nick ')) return { kind: 'nick', nick: trimmed.slice('/nick '.length).trim() };
  return { kind: 'say', text };
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
