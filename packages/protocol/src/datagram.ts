/**
 * The datagram dialect (`--udp`): one datagram is one whole frame or one whole line, so
 * there is no stream to cut and no decoder state; a bad datagram is answered and forgotten.
 */
import { isUtf8 } from 'node:buffer';
import { decodeBinaryMessage, decodeBinaryRequest, encodeBinaryMessage, encodeBinaryRequest } from './binary-dialect.js';
import { ProtocolError } from './errors.js';
import { FRAME_HEADER_BYTES } from './frame.js';
import type { Reply, Request, ServerMessage } from './messages.js';
import {
  encodeTextHelp,
  encodeTextMessage,
  formatTextRequest,
  type HelpRequest,
  parseTextMessage,
  parseTextRequest,
} from './text-dialect.js';

/** The largest UDP payload over IPv4: 65,535 less the IP (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 65_507;

/** The dialects a datagram can speak: HTTP needs a connection. */
export type DatagramDialect = 'binary' | 'text';

/** The commands served over UDP; chat and files need a connection, so they are refused. */
export const DATAGRAM_COMMANDS = ['ECHO', 'PING', 'WORK', 'INFO'] as const;

export type DatagramCommand = (typeof DATAGRAM_COMMANDS)[number];

/** A request a datagram may carry: one of DATAGRAM_COMMANDS, or text HELP. */
export type DatagramRequest = Extract<Request, { readonly command: DatagramCommand }> | HelpRequest;

/** The limits a datagram's frame or line is checked against (a server's `--max-frame` and `--max-line`). */
export interface DatagramLimits {
  readonly maxFrame: number;
  readonly maxLine: number;
}

/**
 * What one datagram holds: a request to serve, an error to answer (with the command word
 * for counting, when one was read), or nothing to answer (an empty datagram or line, ignored
 * as the text dialect ignores empty lines).
 */
export type DecodedDatagram =
  | { readonly kind: 'request'; readonly dialect: DatagramDialect; readonly request: DatagramRequest }
  | { readonly kind: 'error'; readonly dialect: DatagramDialect; readonly error: ProtocolError; readonly command?: string }
  | { readonly kind: 'empty' };

const LF = 0x0a;
const CR = 0x0d;

const isServed = (request: Request | HelpRequest): request is DatagramRequest =>
  request.command === 'HELP' || (DATAGRAM_COMMANDS as readonly string[]).includes(request.command);

const notServed = (command: string): ProtocolError =>
  new ProtocolError('UNKNOWN_COMMAND', `${command} is not served over UDP (chat and files need a connection)`);

/** Server side: one datagram as a request, or the error to answer it with. Never throws. */
export function decodeDatagramRequest(datagram: Uint8Array, limits: DatagramLimits): DecodedDatagram {
  const bytes = Buffer.isBuffer(datagram) ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  if (bytes.length === 0) return { kind: 'empty' };
  return bytes[0] === 0x00 ? decodeFrameDatagram(bytes, limits.maxFrame) : decodeLineDatagram(bytes, limits.maxLine);
}

function decodeFrameDatagram(bytes: Buffer, maxFrame: number): DecodedDatagram {
  const fail = (error: ProtocolError): DecodedDatagram => ({ kind: 'error', dialect: 'binary', error });
  if (bytes.length < FRAME_HEADER_BYTES) {
    return fail(new ProtocolError('BAD_FRAME', `truncated frame: ${bytes.length} bytes, a frame has at least ${FRAME_HEADER_BYTES}`));
  }
  const length = bytes.readUInt32BE(0);
  if (length === 0) return fail(new ProtocolError('BAD_FRAME', 'frame length 0'));
  const carried = bytes.length - 4;
  if (length > carried) return fail(new ProtocolError('BAD_FRAME', `truncated frame: length ${length}, the datagram carries ${carried}`));
  if (length < carried) return fail(new ProtocolError('BAD_FRAME', `${carried - length} bytes after the frame: a datagram is one frame`));
  if (length > maxFrame + 1) return fail(new ProtocolError('TOO_LARGE', `frame of ${length - 1} bytes over the limit of ${maxFrame}`));
  const decoded = decodeBinaryRequest({ type: bytes[4] as number, body: bytes.subarray(FRAME_HEADER_BYTES) });
  if (decoded instanceof ProtocolError) return fail(decoded);
  if (!isServed(decoded)) return { kind: 'error', dialect: 'binary', error: notServed(decoded.command), command: decoded.command };
  return { kind: 'request', dialect: 'binary', request: decoded };
}

function decodeLineDatagram(bytes: Buffer, maxLine: number): DecodedDatagram {
  const fail = (error: ProtocolError): DecodedDatagram => ({ kind: 'error', dialect: 'text', error });
  let end = bytes.length;
  if (bytes[end - 1] === LF) end -= 1;
  if (end > 0 && bytes[end - 1] === CR) end -= 1;
  const line = bytes.subarray(0, end);
  if (line.includes(LF)) return fail(new ProtocolError('BAD_FRAME', 'an LF inside the datagram: a datagram is one line'));
  if (line.length > maxLine) return fail(new ProtocolError('TOO_LARGE', `line over the limit of ${maxLine} bytes`));
  if (!isUtf8(line)) return fail(new ProtocolError('BAD_FRAME', 'line is not valid UTF-8'));
  const parsed = parseTextRequest(line);
  if (parsed === undefined) return { kind: 'empty' };
  if (parsed instanceof ProtocolError) return fail(parsed);
  if (!isServed(parsed)) return { kind: 'error', dialect: 'text', error: notServed(parsed.command), command: parsed.command };
  return { kind: 'request', dialect: 'text', request: parsed };
}

/** A reply ready to send; `tooLarge` when the reply did not fit and `ERR TOO_LARGE` took its place. */
export interface DatagramReply {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
}

/**
 * Server side: a reply as one datagram in the request's dialect. A reply over
 * MAX_DATAGRAM_BYTES cannot be sent, so `ERR TOO_LARGE` goes instead.
 */
export function encodeDatagramReply(dialect: DatagramDialect, reply: Reply): DatagramReply {
  const encode = dialect === 'binary' ? encodeBinaryMessage : encodeTextMessage;
  const bytes = encode(reply);
  if (bytes.length <= MAX_DATAGRAM_BYTES) return { bytes, tooLarge: false };
  const error = new ProtocolError('TOO_LARGE', `reply of ${bytes.length} bytes over the datagram limit of ${MAX_DATAGRAM_BYTES}`);
  return { bytes: encode({ kind: 'ERR', error }), tooLarge: true };
}

/** Server side: the reply to text HELP over UDP, which lists only what UDP serves. */
export const encodeDatagramHelp = (): Buffer => encodeTextHelp([...DATAGRAM_COMMANDS, 'HELP']);

/** Client side: one request as one datagram (a frame, or a line ending in LF). */
export function encodeDatagramRequest(dialect: DatagramDialect, request: Request): Buffer {
  return dialect === 'binary' ? encodeBinaryRequest(request) : formatTextRequest(request);
}

/** Client side: a server's datagram as a reply. Throws `ProtocolError` (BAD_FRAME) on one that is not a whole frame or line. */
export function decodeDatagramReply(datagram: Uint8Array): ServerMessage {
  const bytes = Buffer.from(datagram);
  if (bytes[0] === 0x00) {
    if (bytes.length < FRAME_HEADER_BYTES || bytes.readUInt32BE(0) !== bytes.length - 4) {
      throw new ProtocolError('BAD_FRAME', `a reply datagram of ${bytes.length} bytes is not one whole frame`);
    }
    return decodeBinaryMessage({ type: bytes[4] as number, body: bytes.subarray(FRAME_HEADER_BYTES) });
  }
  let end = bytes.length;
  if (bytes[end - 1] === LF) end -= 1;
  return parseTextMessage(bytes.subarray(0, end).toString('utf8'));
}
