/**
 * The file service from the client's side: LIST, GET saved to disk atomically, PUT streamed from
 * disk. Each transfer opens a connection of its own, as FTP's data connection does, so a chat
 * session's pushes keep flowing beside a long transfer and a failed one costs the session nothing.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  encodeBinaryRequest,
  type FileEntry,
  type Frame,
  FrameDecoder,
  FrameType,
  LineDecoder,
  MAX_FRAME_LIMIT,
  ProtocolError,
  parseErrorBody,
  parseFileList,
  parseTextFileHead,
} from '@echoplex/protocol';
import { ConnectionClosedError, EchoplexError } from '../client/echoplex-error.js';
import { connectOptions, type Target } from '../target.js';
import { fileNameProblem } from './file-name.js';

/** A file the server serves: its name and size in bytes. */
export type RemoteFile = FileEntry;

export interface FileTransferOptions {
  /** Give up connecting after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Give up when the server sends nothing for this long mid-transfer (default 30,000 ms). */
  readonly idleTimeoutMs?: number;
}

/** A transfer refused or abandoned on this side: a bad name, not a regular file, a file changed while sent. */
export class FileRequestError extends Error {
  override readonly name = 'FileRequestError';
}

/** Bytes read from disk per write to the socket during a PUT. */
const UPLOAD_CHUNK_BYTES = 64 * 1024;
/** The longest reply line a PUT may get (`OK PUT <255-byte name> <size>` or an ERR). */
const REPLY_LINE_BYTES = 4096;

/** Names the files the server serves, sorted by name as the server sends them. */
export async function listFiles(target: Target, options: FileTransferOptions = {}): Promise<RemoteFile[]> {
  const socket = await openSocket(target, options);
  try {
    socket.write(encodeBinaryRequest({ command: 'LIST' }));
    for await (const frame of framesOf(socket)) {
      if (frame.type === FrameType.LIST_REPLY) return parseListing(frame.body.toString('utf8'));
      throw replyProblem(frame, 'LIST');
    }
    throw closedBefore(socket, 'the LIST reply');
  } finally {
    socket.destroy();
  }
}

/**
 * GETs `name` into `directory` (default: the current one): the bytes go to a temporary file
 * there, synced and renamed over `directory/name` only once the final empty frame has arrived,
 * so a failed download leaves whatever was there before and no temporary file.
 */
export async function downloadFile(
  target: Target,
  name: string,
  directory = '.',
  options: FileTransferOptions = {},
): Promise<RemoteFile & { readonly path: string }> {
  const problem = fileNameProblem(name);
  if (problem !== undefined) throw new FileRequestError(problem);
  const destination = path.join(directory, name);
  // Short and fixed-length whatever the name, so a 255-byte name still has room beside it.
  const temporary = path.join(directory, `.echoplex-get-${randomBytes(6).toString('hex')}.part`);
  // Opened before the server is asked: an unwritable directory fails here, costing the server nothing.
  const handle = await open(temporary, 'wx');
  let socket: net.Socket | undefined;
  let renamed = false;
  try {
    socket = await openSocket(target, options);
    socket.write(encodeBinaryRequest({ command: 'GET', name }));
    let size = 0;
    let ended = false;
    for await (const frame of framesOf(socket)) {
      if (frame.type !== FrameType.FILE_DATA) throw replyProblem(frame, `GET ${name}`);
      if (frame.body.length === 0) {
        ended = true;
        break;
      }
      // Reading waits for the disk: the socket is not read while the write is pending.
      await writeAll(handle, frame.body);
      size += frame.body.length;
    }
    if (!ended) throw closedBefore(socket, `the end of ${name} (${size} bytes had arrived)`);
    await handle.sync();
    await handle.close();
    await rename(temporary, destination);
    renamed = true;
    return { name, size, path: destination };
  } finally {
    socket?.destroy();
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
    }
  }
}

/**
 * PUTs the file at `localPath` as `name` (default: its base name), read from disk in 64 KiB
 * chunks as the socket takes them, never whole. Over the text dialect, the one whose PUT may
 * declare up to the server's `--max-file` (a binary PUT is one frame, at most `--max-frame`).
 */
export async function uploadFile(
  target: Target,
  localPath: string,
  options: FileTransferOptions & { readonly name?: string } = {},
): Promise<RemoteFile> {
  const name = options.name ?? path.basename(localPath);
  const problem = fileNameProblem(name);
  if (problem !== undefined) throw new FileRequestError(`cannot send ${localPath}: ${problem}`);
  const handle = await open(localPath, 'r');
  let socket: net.Socket | undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new FileRequestError(`${localPath} is not a regular file`);
    const size = stat.size;
    socket = await openSocket(target, options);
    const reply = firstLine(socket, `the answer to PUT ${name}`);
    let answered = false;
    reply.then(
      () => {
        answered = true;
      },
      () => {
        answered = true;
      },
    );
    // Lower case on purpose: `PUT ` as a connection's first bytes selects the HTTP dialect.
    socket.write(`put ${name} ${size}\n`);
    let sent = 0;
    if (size > 0) {
      const chunks = handle.createReadStream({ start: 0, end: size - 1, highWaterMark: UPLOAD_CHUNK_BYTES, autoClose: false });
      for await (const chunk of chunks as AsyncIterable<Buffer>) {
        // An early answer is an ERR (TOO_LARGE as soon as the size passes --max-file): stop sending.
        if (answered || socket.destroyed) break;
        sent += chunk.length;
        if (!socket.write(chunk)) await drainedOrClosed(socket);
      }
    }
    if (!answered && !socket.destroyed) {
      // Closing now, before the last byte, makes the server drop the upload and its temporary file.
      if (sent !== size)
        throw new FileRequestError(`${localPath} shrank while it was being sent (${sent} of ${size} bytes): upload abandoned`);
      socket.write('\n');
    }
    return parsePutReply(await reply, name, size);
  } finally {
    socket?.destroy();
    await handle.close().catch(() => undefined);
  }
}

function openSocket(target: Target, options: FileTransferOptions): Promise<net.Socket> {
  const connectMs = options.connectTimeoutMs ?? 5000;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectOptions(target));
    const timer = setTimeout(() => socket.destroy(new ConnectionClosedError(`connect timed out after ${connectMs} ms`)), connectMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Errors end the transfer through the reads and writes that see them; this only keeps them from being unhandled.
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      socket.setTimeout(idleMs, () => socket.destroy(new ConnectionClosedError(`the server sent nothing for ${idleMs / 1000} s`)));
      resolve(socket);
    });
  });
}

/** The server's frames as they arrive; reading pauses while the consumer is busy with one. */
async function* framesOf(socket: net.Socket): AsyncGenerator<Frame> {
  const decoder = new FrameDecoder(MAX_FRAME_LIMIT);
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    decoder.push(chunk);
    // Each frame consumes bytes of this chunk: the loop ends within it.
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      if (frame instanceof ProtocolError) throw new Error(`the server sent a malformed frame: ${frame.toString()}`);
      yield frame;
    }
  }
}

/** The first non-empty line the server sends. */
function firstLine(socket: net.Socket, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new LineDecoder(REPLY_LINE_BYTES);
    const finish = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      decoder.push(chunk);
      for (let line = decoder.next(); line !== undefined; line = decoder.next()) {
        if (line instanceof ProtocolError) {
          finish();
          reject(new Error(`the server's ${what} is not a line: ${line.toString()}`));
          return;
        }
        if (line.length > 0) {
          finish();
          resolve(line.toString('utf8'));
          return;
        }
      }
    };
    const onClose = (): void => {
      finish();
      reject(new ConnectionClosedError(`the server closed the connection before ${what}`));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

function drainedOrClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error('the disk took no bytes');
    offset += bytesWritten;
  }
}

/** LIST's body (`name size` lines), or why it cannot be read. */
function parseListing(body: string): RemoteFile[] {
  try {
    return parseFileList(body);
  } catch (error) {
    throw new Error(`the server's LIST is malformed: ${error instanceof ProtocolError ? error.message : String(error)}`);
  }
}

/** `OK PUT name size` for this upload, or the server's ERR raised. */
function parsePutReply(line: string, name: string, size: number): RemoteFile {
  if (line.startsWith('ERR ')) throw serverError(line.slice('ERR '.length));
  let head: ReturnType<typeof parseTextFileHead>;
  try {
    head = parseTextFileHead(line);
  } catch {
    head = undefined;
  }
  if (head?.kind !== 'PUT' || head.name !== name || head.size !== size) {
    throw new Error(`the server answered PUT ${name} ${size} with ${JSON.stringify(line.slice(0, 300))}`);
  }
  return { name, size };
}

function serverError(body: string): Error {
  try {
    return new EchoplexError(parseErrorBody(body));
  } catch {
    return new Error(`the server answered ERR ${body.slice(0, 300)}`);
  }
}

/** What an unexpected frame means: the server's ERR, or a type that does not answer `request`. */
function replyProblem(frame: Frame, request: string): Error {
  if (frame.type === FrameType.ERR) return serverError(frame.body.toString('utf8'));
  return new Error(`the server answered ${request} with a frame of type 0x${frame.type.toString(16).padStart(2, '0')}`);
}

function closedBefore(socket: net.Socket, what: string): Error {
  const reason = socket.errored?.message;
  return new ConnectionClosedError(`the connection closed before ${what}${reason === undefined ? '' : `: ${reason}`}`);
}
