/**
 * The file store on a real directory, twice: `LoopFileStore` with node:fs callbacks, for a
 * model that must never block its loop (event-loop, each worker's and child's loop,
 * coroutine), and `BlockingFileStore` with node:fs's synchronous calls, for a thread that
 * may block itself (blocking's handler threads). Both keep every request inside DIR: a
 * name never holds `/`, a file is opened with O_NOFOLLOW and must be a regular file, and an
 * upload goes to a temporary file renamed over the name only once it is whole.
 */
import {
  close,
  closeSync,
  constants,
  fstat,
  fstatSync,
  fsync,
  fsyncSync,
  lstat,
  lstatSync,
  open,
  openSync,
  read,
  readdir,
  readdirSync,
  readSync,
  rename,
  renameSync,
  type Stats,
  unlink,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { type FileEntry, ProtocolError } from '@echoplex/protocol';
import {
  type FileResult,
  type FileSink,
  type FileSource,
  type FileStore,
  isTemporaryUpload,
  listing,
  temporaryUploadName,
} from './file-store.js';

/** Read only; never through a symlink; a FIFO or device opens without waiting, then fstat refuses it. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** A fresh temporary file, never an existing one or a symlink planted under its name. */
const UPLOAD_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const UPLOAD_MODE = 0o644;

let uploads = 0;
/** Unique across the threads and processes sharing DIR. */
function uniqueSuffix(): string {
  uploads += 1;
  // The time and a random part guard against a dead process's leftover under a reused pid (O_EXCL would refuse it).
  return `${process.pid}-${threadId}-${uploads}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * This thread's temporary uploads not yet renamed or removed. Whatever is left when the thread
 * or process exits is removed then: a per-connection child exits as soon as its socket closes,
 * before the callback of an open still under way could remove what it created.
 */
const liveUploads = new Set<string>();
process.on('exit', () => {
  for (const temporary of liveUploads) removeQuietly(temporary);
});

function removeQuietly(temporary: string): void {
  liveUploads.delete(temporary);
  try {
    unlinkSync(temporary);
  } catch {
    // Already gone: nothing of the upload is left.
  }
}

/**
 * Removes the temporary uploads in DIR that no live process owns: what a SIGKILL, a crash or a
 * power cut left (the exit hook above cannot run then). Run once at a server's start. An upload
 * whose process is alive stays: several servers may share DIR. Returns how many were removed.
 */
export function removeAbandonedUploads(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir)) {
    if (!isTemporaryUpload(entry)) continue;
    // `.NAME~PID-THREAD-N-STAMP~upload` (uniqueSuffix): a name never holds `~`.
    const owner = Number(entry.split('~')[1]?.split('-')[0]);
    if (Number.isSafeInteger(owner) && owner > 0 && processIsAlive(owner)) continue;
    try {
      unlinkSync(join(dir, entry));
      removed += 1;
    } catch {
      // Removed meanwhile, or not ours to remove: it is left as it was.
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return errnoOf(error) === 'EPERM';
  }
}

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException | null)?.code ?? 'EIO';

/** A file system error as the client sees it: missing is NOT_FOUND, a symlink or non-file BAD_ARGUMENT, the rest UNAVAILABLE. */
function storeError(error: unknown, name: string): ProtocolError {
  const code = errnoOf(error);
  if (code === 'ENOENT') return new ProtocolError('NOT_FOUND', `no file '${name}'`);
  if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENOTDIR') return notAFile(name);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return new ProtocolError('TOO_LARGE', `no room for '${name}' (${code})`);
  return new ProtocolError('UNAVAILABLE', `the file store failed on '${name}' (${code})`);
}

const notAFile = (name: string): ProtocolError => new ProtocolError('BAD_ARGUMENT', `'${name}' is not a regular file`);

const failed = <T>(error: ProtocolError): FileResult<T> => ({ ok: false, error });
const ok = <T>(value: T): FileResult<T> => ({ ok: true, value });

/** An existing entry under the name: none, a regular file (a PUT replaces it), or something a PUT must not touch. */
type Existing = 'none' | 'file' | 'other';
const existingOf = (stats: Stats | undefined): Existing => (stats === undefined ? 'none' : stats.isFile() ? 'file' : 'other');

/** The files of DIR through node:fs callbacks: nothing here blocks the loop. */
export class LoopFileStore implements FileStore {
  constructor(private readonly dir: string) {}

  list(done: (result: FileResult<readonly FileEntry[]>) => void): void {
    readdir(this.dir, { withFileTypes: true }, (error, entries) => {
      if (error !== null) return done(failed(storeError(error, '.')));
      const files = entries.filter((entry) => entry.isFile());
      const found: FileEntry[] = [];
      let left = files.length;
      if (left === 0) return done(ok([]));
      for (const entry of files) {
        // lstat: a name that became a symlink since readdir is left out, not followed.
        lstat(join(this.dir, entry.name), (statError, stats) => {
          if (statError === null && stats.isFile()) found.push({ name: entry.name, size: stats.size });
          left -= 1;
          if (left === 0) done(ok(listing(found)));
        });
      }
    });
  }

  read(name: string, done: (result: FileResult<FileSource>) => void): void {
    open(join(this.dir, name), READ_FLAGS, (error, fd) => {
      if (error !== null) return done(failed(storeError(error, name)));
      fstat(fd, (statError, stats) => {
        if (statError !== null || !stats.isFile()) {
          close(fd, () => {});
          return done(failed(statError !== null ? storeError(statError, name) : notAFile(name)));
        }
        done(ok(new LoopSource(fd, stats.size)));
      });
    });
  }

  write(name: string, done: (result: FileResult<FileSink>) => void): void {
    const target = join(this.dir, name);
    lstat(target, (statError, stats) => {
      if (statError !== null && errnoOf(statError) !== 'ENOENT') return done(failed(storeError(statError, name)));
      if (existingOf(statError === null ? stats : undefined) === 'other') return done(failed(notAFile(name)));
      const temporary = join(this.dir, temporaryUploadName(name, uniqueSuffix()));
      liveUploads.add(temporary);
      open(temporary, UPLOAD_FLAGS, UPLOAD_MODE, (error, fd) => {
        if (error !== null) {
          liveUploads.delete(temporary);
          return done(failed(storeError(error, name)));
        }
        done(ok(new LoopSink(fd, temporary, target, name)));
      });
    });
  }
}

class LoopSource implements FileSource {
  private position = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(into: Buffer, done: (result: FileResult<number>) => void): void {
    read(this.fd, into, 0, into.length, this.position, (error, count) => {
      if (error !== null) return done(failed(storeError(error, 'the file')));
      this.position += count;
      done(ok(count));
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    close(this.fd, () => {});
  }
}

class LoopSink implements FileSink {
  private state: 'open' | 'committing' | 'done' = 'open';
  /** An abort that came while a write or the commit was under way: done once it completes. */
  private abortWanted = false;
  private busy = false;

  constructor(
    private readonly fd: number,
    private readonly temporary: string,
    private readonly target: string,
    private readonly name: string,
  ) {}

  write(bytes: Buffer, done: (result: FileResult<void>) => void): void {
    this.busy = true;
    const writeFrom = (offset: number): void => {
      write(this.fd, bytes, offset, bytes.length - offset, null, (error, count) => {
        if (error === null && offset + count < bytes.length) return writeFrom(offset + count);
        this.busy = false;
        if (this.abortWanted) return close(this.fd, () => {});
        done(error === null ? ok(undefined) : failed(storeError(error, this.name)));
      });
    };
    writeFrom(0);
  }

  commit(done: (result: FileResult<{ readonly replaced: boolean }>) => void): void {
    this.state = 'committing';
    // On the disk before it takes the name: a crash after the rename never leaves a short file under it.
    fsync(this.fd, (syncError) => {
      if (syncError !== null) {
        close(this.fd, () => {});
        return this.discard(() => done(failed(storeError(syncError, this.name))));
      }
      this.closeAndRename(done);
    });
  }

  private closeAndRename(done: (result: FileResult<{ readonly replaced: boolean }>) => void): void {
    close(this.fd, (closeError) => {
      if (closeError !== null) return this.discard(() => done(failed(storeError(closeError, this.name))));
      lstat(this.target, (statError, stats) => {
        const existing = existingOf(statError === null ? stats : undefined);
        // Something not a file took the name meanwhile (a symlink, a directory): it stays, the upload goes.
        if (existing === 'other') return this.discard(() => done(failed(notAFile(this.name))));
        rename(this.temporary, this.target, (renameError) => {
          if (renameError !== null) return this.discard(() => done(failed(storeError(renameError, this.name))));
          liveUploads.delete(this.temporary);
          this.state = 'done';
          done(ok({ replaced: existing === 'file' }));
        });
      });
    });
  }

  /**
   * The name goes at once, synchronously: a process may exit right after its connection does
   * (a per-connection child), and an unlink still queued would leave the temporary file behind.
   * The descriptor is closed once a write under way on it has finished.
   */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'done';
    removeQuietly(this.temporary);
    if (this.busy) this.abortWanted = true;
    else close(this.fd, () => {});
  }

  private discard(then: () => void): void {
    this.state = 'done';
    liveUploads.delete(this.temporary);
    unlink(this.temporary, () => then());
  }
}

/** The files of DIR through node:fs's synchronous calls: each blocks its own thread, and only it. */
export class BlockingFileStore implements FileStore {
  constructor(private readonly dir: string) {}

  list(done: (result: FileResult<readonly FileEntry[]>) => void): void {
    let found: FileEntry[];
    try {
      found = [];
      for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const stats = lstatSync(join(this.dir, entry.name), { throwIfNoEntry: false });
        if (stats?.isFile() === true) found.push({ name: entry.name, size: stats.size });
      }
    } catch (error) {
      return done(failed(storeError(error, '.')));
    }
    done(ok(listing(found)));
  }

  read(name: string, done: (result: FileResult<FileSource>) => void): void {
    let fd: number;
    try {
      fd = openSync(join(this.dir, name), READ_FLAGS);
    } catch (error) {
      return done(failed(storeError(error, name)));
    }
    let stats: Stats;
    try {
      stats = fstatSync(fd);
    } catch (error) {
      closeSync(fd);
      return done(failed(storeError(error, name)));
    }
    if (!stats.isFile()) {
      closeSync(fd);
      return done(failed(notAFile(name)));
    }
    done(ok(new BlockingSource(fd, stats.size)));
  }

  write(name: string, done: (result: FileResult<FileSink>) => void): void {
    const target = join(this.dir, name);
    const temporary = join(this.dir, temporaryUploadName(name, uniqueSuffix()));
    let fd: number;
    try {
      if (existingOf(lstatSync(target, { throwIfNoEntry: false })) === 'other') return done(failed(notAFile(name)));
      fd = openSync(temporary, UPLOAD_FLAGS, UPLOAD_MODE);
      liveUploads.add(temporary);
    } catch (error) {
      return done(failed(storeError(error, name)));
    }
    done(ok(new BlockingSink(fd, temporary, target, name)));
  }
}

class BlockingSource implements FileSource {
  private position = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(into: Buffer, done: (result: FileResult<number>) => void): void {
    let count: number;
    try {
      count = readSync(this.fd, into, 0, into.length, this.position);
    } catch (error) {
      return done(failed(storeError(error, 'the file')));
    }
    this.position += count;
    done(ok(count));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

class BlockingSink implements FileSink {
  private open = true;

  constructor(
    private readonly fd: number,
    private readonly temporary: string,
    private readonly target: string,
    private readonly name: string,
  ) {}

  write(bytes: Buffer, done: (result: FileResult<void>) => void): void {
    try {
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      return done(failed(storeError(error, this.name)));
    }
    done(ok(undefined));
  }

  commit(done: (result: FileResult<{ readonly replaced: boolean }>) => void): void {
    this.open = false;
    let existing: Existing;
    try {
      // On the disk before it takes the name: a crash after the rename never leaves a short file under it.
      try {
        fsyncSync(this.fd);
      } finally {
        closeSync(this.fd);
      }
      existing = existingOf(lstatSync(this.target, { throwIfNoEntry: false }));
      if (existing !== 'other') {
        renameSync(this.temporary, this.target);
        liveUploads.delete(this.temporary);
      }
    } catch (error) {
      this.discard();
      return done(failed(storeError(error, this.name)));
    }
    if (existing === 'other') {
      this.discard();
      return done(failed(notAFile(this.name)));
    }
    done(ok({ replaced: existing === 'file' }));
  }

  abort(): void {
    if (!this.open) return;
    this.open = false;
    try {
      closeSync(this.fd);
    } finally {
      this.discard();
    }
  }

  private discard(): void {
    removeQuietly(this.temporary);
  }
}

/** The store a loop-driven model uses for `--files DIR`, or undefined without it. */
export const loopFileStore = (limits: { readonly filesDir?: string | undefined }): LoopFileStore | undefined =>
  limits.filesDir === undefined ? undefined : new LoopFileStore(limits.filesDir);

/** The store a blocking thread uses for `--files DIR`, or undefined without it. */
export const blockingFileStore = (limits: { readonly filesDir?: string | undefined }): BlockingFileStore | undefined =>
  limits.filesDir === undefined ? undefined : new BlockingFileStore(limits.filesDir);
