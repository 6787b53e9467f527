/** Both real-directory stores, held to the same rules: what LIST shows, what GET opens, how a PUT lands or leaves nothing. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileResult, FileStore } from '../src/index.js';
import { BlockingFileStore, LoopFileStore, removeAbandonedUploads } from '../src/node.js';

const root = mkdtempSync(path.join(tmpdir(), 'echoplex-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const call = <T>(start: (done: (result: FileResult<T>) => void) => void): Promise<FileResult<T>> =>
  new Promise((resolve) => start(resolve));
const value = <T>(result: FileResult<T>): T => {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.toString()}`);
  return result.value;
};
const code = <T>(result: FileResult<T>): string => (result.ok ? 'ok' : result.error.code);

let dirs = 0;
describe.each([
  ['LoopFileStore', (dir: string) => new LoopFileStore(dir)],
  ['BlockingFileStore', (dir: string) => new BlockingFileStore(dir)],
])('%s', (_, makeStore: (dir: string) => FileStore) => {
  dirs += 1;
  const dir = path.join(root, `dir-${dirs}`);
  const outside = path.join(root, `outside-${dirs}.txt`);
  mkdirSync(dir);
  writeFileSync(outside, 'outside');
  writeFileSync(path.join(dir, 'b.txt'), 'bee');
  writeFileSync(path.join(dir, 'a.txt'), 'a');
  writeFileSync(path.join(dir, 'has space'), 'not a valid name');
  writeFileSync(path.join(dir, '.a.txt~1-0-1-ab~upload'), 'a temporary upload');
  symlinkSync(outside, path.join(dir, 'link'));
  mkdirSync(path.join(dir, 'sub'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  const store = makeStore(dir);

  it('lists the regular files with valid names, sorted: no symlink, directory, FIFO, temporary upload or invalid name', async () => {
    expect(value(await call(store.list.bind(store)))).toEqual([
      { name: 'a.txt', size: 1 },
      { name: 'b.txt', size: 3 },
    ]);
  });

  it('opens a regular file for reading; a symlink, a directory or a FIFO is BAD_ARGUMENT (without waiting), a missing one NOT_FOUND', async () => {
    const source = value(await call(store.read.bind(store, 'b.txt')));
    const into = Buffer.alloc(10);
    expect([source.size, value(await call<number>((done) => source.read(into, done)))]).toEqual([3, 3]);
    expect(into.subarray(0, 3).toString()).toBe('bee');
    source.close();
    for (const name of ['link', 'sub', 'fifo']) expect(code(await call(store.read.bind(store, name))), name).toBe('BAD_ARGUMENT');
    expect(code(await call(store.read.bind(store, 'none')))).toBe('NOT_FOUND');
  });

  it('commits a PUT by renaming its temporary file over the name (replaced: whether one was there), and aborts leaving nothing', async () => {
    const before = readdirSync(dir).sort();
    const sink = value(await call(store.write.bind(store, 'c.txt')));
    await call<void>((done) => sink.write(Buffer.from('new '), done));
    await call<void>((done) => sink.write(Buffer.from('file'), done));
    expect(readdirSync(dir).length).toBe(before.length + 1);
    expect(value(await call<{ readonly replaced: boolean }>((done) => sink.commit(done)))).toEqual({ replaced: false });
    expect(readFileSync(path.join(dir, 'c.txt'), 'utf8')).toBe('new file');
    const again = value(await call(store.write.bind(store, 'c.txt')));
    await call<void>((done) => again.write(Buffer.from('v2'), done));
    expect(value(await call<{ readonly replaced: boolean }>((done) => again.commit(done)))).toEqual({ replaced: true });
    const aborted = value(await call(store.write.bind(store, 'c.txt')));
    await call<void>((done) => aborted.write(Buffer.from('never'), done));
    aborted.abort();
    expect(readdirSync(dir).sort()).toEqual([...before, 'c.txt'].sort());
    expect(readFileSync(path.join(dir, 'c.txt'), 'utf8')).toBe('v2');
  });

  it('refuses a PUT over a symlink or a directory, leaving the outside file as it was', async () => {
    expect(code(await call(store.write.bind(store, 'link')))).toBe('BAD_ARGUMENT');
    expect(code(await call(store.write.bind(store, 'sub')))).toBe('BAD_ARGUMENT');
    expect(readFileSync(outside, 'utf8')).toBe('outside');
  });
});

describe('removeAbandonedUploads', () => {
  it('removes the temporary uploads of dead processes, and only those', () => {
    const dir = path.join(root, 'abandoned');
    mkdirSync(dir);
    const deadPid = spawnSync('true').pid as number;
    const dead = `.report.txt~${deadPid}-0-1-kq3x9~upload`;
    const live = `.notes.txt~${process.pid}-0-1-kq3xa~upload`;
    for (const name of [dead, live, 'report.txt', '.hidden~upload-not-ours', 'a~b~upload']) writeFileSync(path.join(dir, name), 'x');
    expect(removeAbandonedUploads(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['.hidden~upload-not-ours', live, 'a~b~upload', 'report.txt'].sort());
    expect(removeAbandonedUploads(dir)).toBe(0);
  });
});
