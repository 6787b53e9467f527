/**
 * The file service's replies (LIST, GET, PUT) in the binary and text dialects, and a client's
 * reading of them. A GET streams: the server writes a head and then the file in pieces, so
 * these are pieces to write, not one message per reply.
 */
import { isUtf8 } from 'node:buffer';
import { splitFirst } from './binary-dialect.js';
import { ProtocolError } from './errors.js';
import { encodeFrame, type Frame, FrameType } from './frame.js';

/** One file of a listing. */
export interface FileEntry {
  readonly name: string;
  readonly size: number;
}

const LF = 0x0a;

/** `name size\n` per file: the LIST body in binary, the lines after `LIST n` in text. */
const listLines = (files: readonly FileEntry[]): string => files.map((file) => `${file.name} ${file.size}\n`).join('');

/** Server side, binary: one 0x8B frame holding every `name size` line. */
export const encodeBinaryList = (files: readonly FileEntry[]): Buffer =>
  encodeFrame(FrameType.LIST_REPLY, Buffer.from(listLines(files), 'utf8'));

/** Server side, binary: one piece of a GET; an empty one ends it. */
export const encodeBinaryFileData = (data: Uint8Array): Buffer => encodeFrame(FrameType.FILE_DATA, data);

/** Server side, binary: the PUT accepted, `name size`. */
export const encodeBinaryPutAccepted = (name: string, size: number): Buffer =>
  encodeFrame(FrameType.PUT_OK, Buffer.from(`${name} ${size}`, 'utf8'));

/** Server side, text: `LIST n`, then n lines `name size`. */
export const encodeTextList = (files: readonly FileEntry[]): Buffer => Buffer.from(`LIST ${files.length}\n${listLines(files)}`, 'utf8');

/** Server side, text: `FILE name size`; exactly size raw bytes follow it, then `TEXT_FILE_END`. */
export const encodeTextFileHead = (name: string, size: number): Buffer => Buffer.from(`FILE ${name} ${size}\n`, 'utf8');

/** The LF after a text GET's raw bytes, so a person at `nc` gets the next reply on its own line. */
export const TEXT_FILE_END: Buffer = Buffer.from([LF]);

/** Server side, text: `OK PUT name size`. */
export const encodeTextPutAccepted = (name: string, size: number): Buffer => Buffer.from(`OK PUT ${name} ${size}\n`, 'utf8');

/** Client side: a `name size` line of a listing. Throws `ProtocolError` on a malformed one. */
export function parseFileEntry(line: string): FileEntry {
  const space = line.lastIndexOf(' ');
  const size = Number(line.slice(space + 1));
  if (space <= 0 || !/^\d+$/.test(line.slice(space + 1)) || !Number.isSafeInteger(size)) {
    throw new ProtocolError('BAD_FRAME', `not a 'name size' line: ${line.slice(0, 80)}`);
  }
  return { name: line.slice(0, space), size };
}

/** Client side: a LIST body (binary) or the lines after `LIST n` joined (text), as entries. */
export const parseFileList = (text: string): FileEntry[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map(parseFileEntry);

/** What a client reads from a file reply frame: the listing, a piece of a GET (empty: the end), or the PUT accepted. */
export type BinaryFileReply =
  | { readonly kind: 'LIST'; readonly files: readonly FileEntry[] }
  | { readonly kind: 'FILE_DATA'; readonly data: Buffer }
  | { readonly kind: 'PUT'; readonly name: string; readonly size: number };

const utf8Body = (frame: Frame): string => {
  if (!isUtf8(frame.body)) throw new ProtocolError('BAD_FRAME', 'file reply is not valid UTF-8');
  return frame.body.toString('utf8');
};

/** Client side: a 0x8B, 0x8C or 0x8D frame, or `undefined` for any other type. Throws `ProtocolError` on a malformed one. */
export function decodeBinaryFileReply(frame: Frame): BinaryFileReply | undefined {
  switch (frame.type) {
    case FrameType.LIST_REPLY:
      return { kind: 'LIST', files: parseFileList(utf8Body(frame)) };
    case FrameType.FILE_DATA:
      return { kind: 'FILE_DATA', data: Buffer.from(frame.body) };
    case FrameType.PUT_OK: {
      const { name, size } = parseFileEntry(utf8Body(frame));
      return { kind: 'PUT', name, size };
    }
    default:
      return undefined;
  }
}

/** What a client reads from a text file reply's first line: how many lines or raw bytes follow it, or the PUT accepted. */
export type TextFileHead =
  | { readonly kind: 'LIST'; readonly count: number }
  | { readonly kind: 'FILE'; readonly name: string; readonly size: number }
  | { readonly kind: 'PUT'; readonly name: string; readonly size: number };

/** Client side: `LIST n`, `FILE name size` or `OK PUT name size`, or `undefined` for any other line. */
export function parseTextFileHead(line: string): TextFileHead | undefined {
  const [word, rest] = splitFirst(line);
  if (word === 'LIST' && /^\d+$/.test(rest)) return { kind: 'LIST', count: Number(rest) };
  if (word === 'FILE') return { kind: 'FILE', ...parseFileEntry(rest) };
  if (word === 'OK' && rest.startsWith('PUT ')) return { kind: 'PUT', ...parseFileEntry(rest.slice(4)) };
  return undefined;
}
