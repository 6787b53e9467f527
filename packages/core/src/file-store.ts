/**
 * The file service's seam (`--files DIR`): what a session asks of the files in DIR, and the
 * name rules that keep every request inside it. Pure: each model implements the store its
 * own way (synchronous reads in a blocking thread, streams on a loop), and the session
 * drives whichever it is given, so the rules and the protocol are written once.
 */
import { type FileEntry, ProtocolError } from '@echoplex/protocol';

export type { FileEntry } from '@echoplex/protocol';

/** A store call's outcome: a value, or the error the client gets (NOT_FOUND, BAD_ARGUMENT, TOO_LARGE). */
export type FileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ProtocolError };

/**
 * The files directly in one directory. Every call may complete synchronously (a blocking
 * thread's store) or later (a loop's): callers accept both, as with the Hub.
 */
export interface FileStore {
  /** The regular files whose names follow the rules, sorted by byte value; never a temporary upload, a symlink or a directory. */
  list(done: (result: FileResult<readonly FileEntry[]>) => void): void;
  /** Opens a regular file for a GET; a symlink or anything else is BAD_ARGUMENT, a missing one NOT_FOUND. */
  read(name: string, done: (result: FileResult<FileSource>) => void): void;
  /** Starts a PUT: a temporary file in DIR that `commit` renames over the name. */
  write(name: string, done: (result: FileResult<FileSink>) => void): void;
}

/** An open file being sent: `size` bytes, read in pieces. */
export interface FileSource {
  /** The size when it was opened: exactly this many bytes are sent. */
  readonly size: number;
  /**
   * Reads what follows into `into` (up to its length): the count, 0 if the file ended early (it
   * shrank). The caller's buffer, reused from piece to piece, so a GET makes no garbage per piece.
   */
  read(into: Buffer, done: (result: FileResult<number>) => void): void;
  /** Done with it (every byte sent, or the connection gone). Idempotent. */
  close(): void;
}

/** An upload under way, in a temporary file that no LIST, GET or PUT can name. */
export interface FileSink {
  /** Appends bytes; the next call waits for `done`. */
  write(bytes: Buffer, done: (result: FileResult<void>) => void): void;
  /** Every byte arrived: the temporary file takes the name, atomically. `replaced`: a file of that name was there. */
  commit(done: (result: FileResult<{ readonly replaced: boolean }>) => void): void;
  /** The upload stops short (disconnect, error): the temporary file is removed and the old file, if any, stays. Idempotent. */
  abort(): void;
}

/** `--max-file`'s default: 64 MiB. */
export const DEFAULT_MAX_FILE = 64 * 1024 ** 2;

const FILE_NAME = /^[A-Za-z0-9._-]{1,255}$/;

/** Why `name` may not name a file in DIR, or `undefined` when it may: 1-255 of `[A-Za-z0-9._-]`, not `.` or `..`. */
export function fileNameProblem(name: string): string | undefined {
  if (!FILE_NAME.test(name)) return `invalid file name '${printable(name)}': 1-255 of [A-Za-z0-9._-], no '/'`;
  if (name === '.' || name === '..') return `invalid file name '${name}'`;
  return undefined;
}

export const isValidFileName = (name: string): boolean => fileNameProblem(name) === undefined;

/** A name as an error message may show it: control characters (NUL included) escaped as JSON does, at most 80 characters. */
const printable = (name: string): string => JSON.stringify(name.slice(0, 80)).slice(1, -1);

/** The error for a name that breaks the rules. */
export const badFileName = (problem: string): ProtocolError => new ProtocolError('BAD_ARGUMENT', problem);

/**
 * A temporary upload's name: its `~` is outside the name charset, so no request can name it
 * and LIST, which shows only valid names, never shows it.
 */
export function temporaryUploadName(name: string, unique: string): string {
  return `.${name.slice(0, 200)}~${unique}~upload`;
}

/** Whether a name in DIR is one of ours: an upload that a crash left behind can be removed at start. */
export const isTemporaryUpload = (entry: string): boolean => entry.startsWith('.') && entry.endsWith('~upload');

/** The listing of a directory's entries: valid names of regular files, sorted by byte value. */
export function listing(entries: readonly FileEntry[]): FileEntry[] {
  return entries
    .filter((entry) => isValidFileName(entry.name))
    .sort((a, b) => Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8')));
}

/** What a file service needs from the config: where the files are, and the upload cap. */
export interface FileLimits {
  /** `--files DIR`, resolved; undefined: no file service (LIST, GET, PUT are unknown commands). */
  readonly filesDir?: string | undefined;
  /** `--max-file`: the largest upload. */
  readonly maxFile?: number | undefined;
}
