/**
 * The file commands against a real server (apps/event-loop with `--files DIR`), through the two
 * commands people run: `echoplex-chat` with `/ls`, `/get`, `/put` piped in, and `echoplex-load
 * --scenario get`. What lands on disk is compared byte for byte, and no temporary file is left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHAT = fileURLToPath(new URL('../dist/bin/chat.js', import.meta.url));
const LOAD = fileURLToPath(new URL('../dist/bin/load.js', import.meta.url));
const EVENT_LOOP = fileURLToPath(new URL('../../../apps/event-loop/dist/main.js', import.meta.url));

interface Served {
  readonly target: string;
  readonly child: ChildProcess;
}

/** Starts event-loop on a free port and resolves with its address once it logs `listening`. */
function startEventLoop(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [EVENT_LOOP, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('event-loop did not log listening within 10 s'));
    }, 10_000);
    child.once('exit', (code) => reject(new Error(`event-loop exited (${code}) before listening`)));
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const parsed = JSON.parse(line) as { msg?: string; address?: string };
      if (parsed.msg !== 'listening' || parsed.address === undefined) return;
      clearTimeout(timer);
      resolve({ target: parsed.address, child });
    });
  });
}

function stop(served: Served | undefined): Promise<void> {
  if (served === undefined || served.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    served.child.once('exit', () => resolve());
    served.child.kill('SIGTERM');
  });
}

/** Runs a bin with `input` on stdin from `cwd`; killed after `limitMs`. */
function run(bin: string, args: readonly string[], cwd: string, input = '', limitMs = 20_000) {
  const child = spawn(process.execPath, [bin, ...args], { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('file commands against event-loop --files', () => {
  let scratch: string;
  let served: string;
  let here: string;
  let server: Served | undefined;
  let bare: Served | undefined;
  /** Over the server's default --max-frame (1 MiB): several GET frames, and a PUT only text can carry. */
  const large = randomBytes(3 * 1024 * 1024 + 17);

  beforeAll(async () => {
    expect(existsSync(CHAT), `${CHAT} is missing: run npm run build first`).toBe(true);
    expect(existsSync(EVENT_LOOP), `${EVENT_LOOP} is missing: run npm run build first (apps/event-loop)`).toBe(true);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'echoplex-files-test-'));
    served = path.join(scratch, 'served');
    here = path.join(scratch, 'here');
    mkdirSync(served);
    mkdirSync(here);
    writeFileSync(path.join(served, 'large.bin'), large);
    writeFileSync(path.join(served, 'notes.txt'), 'twelve bytes');
    server = await startEventLoop(['--files', served]);
    bare = await startEventLoop([]);
  });
  afterAll(async () => {
    await Promise.all([stop(server), stop(bare)]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists, downloads into the current directory and uploads from disk, byte for byte, leaving no temporary file', async () => {
    const upload = path.join(scratch, 'upload.bin');
    const uploaded = randomBytes(2 * 1024 * 1024 + 5);
    writeFileSync(upload, uploaded);
    writeFileSync(path.join(here, 'large.bin'), 'an older copy, replaced whole');
    const chat = await run(CHAT, [server?.target ?? ''], here, `/ls\n/get large.bin\n/put ${upload}\n/ls\nbye\n`);
    expect(chat.status, chat.stderr).toBe(0);
    expect(chat.stdout).toMatch(/\* 2 file\(s\):\n {2}large\.bin {2}3145745 bytes\n {2}notes\.txt {2}12 bytes/);
    expect(chat.stdout).toContain('* saved large.bin (3145745 bytes) as large.bin');
    expect(chat.stdout).toContain(`* sent upload.bin (${uploaded.length} bytes)`);
    expect(chat.stdout).toMatch(/\* 3 file\(s\):[\s\S]*upload\.bin {2}2097157 bytes/);
    expect(readFileSync(path.join(here, 'large.bin')).equals(large)).toBe(true);
    expect(readFileSync(path.join(served, 'upload.bin')).equals(uploaded)).toBe(true);
    expect(readdirSync(here).sort()).toEqual(['large.bin']);
    expect(readdirSync(served).sort()).toEqual(['large.bin', 'notes.txt', 'upload.bin']);
  });

  it('refuses names that are not plain file names before asking, and shows the server errors, touching nothing', async () => {
    writeFileSync(path.join(here, 'keep.txt'), 'mine');
    const lines = [
      '/get ../notes.txt',
      '/get /etc/passwd',
      '/get a/b',
      '/get keep.txt',
      `/put ${scratch}`,
      '/put /no/such/file',
      '/get',
      'bye',
    ];
    const chat = await run(CHAT, [server?.target ?? ''], here, `${lines.join('\n')}\n`);
    expect(chat.status, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('! /get refused: "../notes.txt" is not a plain file name');
    expect(chat.stdout).toContain('! /get refused: "/etc/passwd" is not a plain file name');
    expect(chat.stdout).toContain('! /get refused: "a/b" is not a plain file name');
    expect(chat.stdout).toMatch(/! \/get keep\.txt: NOT_FOUND /);
    expect(chat.stdout).toContain(`! /put ${scratch}: ${scratch} is not a regular file`);
    expect(chat.stdout).toMatch(/! \/put \/no\/such\/file: ENOENT/);
    expect(chat.stdout).toContain('! /get needs an argument: /get notes.txt');
    expect(readFileSync(path.join(here, 'keep.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(here).filter((name) => name.endsWith('.part'))).toEqual([]);
    expect(readdirSync(path.dirname(here)).sort()).toEqual(['here', 'served', 'upload.bin']);
  });

  it('says when the server serves no files at all', async () => {
    const chat = await run(CHAT, [bare?.target ?? ''], here, '/ls\nbye\n');
    expect(chat.status, chat.stderr).toBe(0);
    expect(chat.stdout).toMatch(/! \/ls: UNKNOWN_COMMAND .*--files/);
  });

  it('echoplex-load --scenario get downloads in a loop with every download the listed size, and exits 3 without the file', async () => {
    const load = await run(
      LOAD,
      [server?.target ?? '', '--scenario', 'get', '--file', 'large.bin', '-c', '2', '-d', '0.5', '--warmup', '0', '--json'],
      here,
    );
    expect(load.status, load.stderr).toBe(0);
    const result = JSON.parse(load.stdout) as { scenario: string; size: number; messages: number; errors: number; errorSamples: string[] };
    expect(result.errorSamples).toEqual([]);
    expect(result).toMatchObject({ scenario: 'get', size: large.length, errors: 0 });
    expect(result.messages).toBeGreaterThan(0);
    const missing = await run(LOAD, [server?.target ?? '', '--scenario', 'get', '--file', 'gone.bin', '-d', '5', '--quiet'], here);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/has no file gone\.bin to GET \(its LIST names large\.bin, notes\.txt/);
    const none = await run(LOAD, [bare?.target ?? '', '--scenario', 'get', '--file', 'large.bin', '-d', '5', '--quiet'], here);
    expect(none.status).toBe(3);
    expect(none.stderr).toMatch(/serves no files: start it with --files DIR/);
  });
});
