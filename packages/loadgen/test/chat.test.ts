/**
 * `echoplex-chat` as a person and as a script meet it: through a pipe (lines sent in order, exit at
 * the end or at `bye`, no prompt or escape codes) and through a pseudo-terminal (`script` from
 * util-linux: a prompt, and `/quit` leaves), with another member of the room listening.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Push } from '@echoplex/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EchoplexClient } from '../src/client/echoplex-client.js';
import { formatTarget } from '../src/target.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

const BIN = fileURLToPath(new URL('../dist/bin/chat.js', import.meta.url));
const ESC = '\u001b';

interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Collects a child's output; `finished` settles at its exit, or kills it after `limitMs`. */
function watch(child: ChildProcessWithoutNullStreams, limitMs: number): { output: () => string; finished: Promise<Finished> } {
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - started });
    });
  });
  return { output: () => stdout, finished };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('echoplex-chat', () => {
  let server: FrameServer;
  let target: string;
  let listener: EchoplexClient;
  const heard: Push[] = [];
  const said = () => heard.filter((push) => push.kind === 'MSG').map((push) => (push.kind === 'MSG' ? `${push.nick}: ${push.text}` : ''));

  beforeAll(async () => {
    expect(existsSync(BIN), `${BIN} is missing: run npm run build first`).toBe(true);
    server = await startFrameServer();
    target = formatTarget(server.target);
    listener = await EchoplexClient.connect(server.target);
    listener.onPush((push) => heard.push(push));
    await listener.nick('listener');
    await listener.join('lobby');
  });
  afterEach(() => {
    heard.length = 0;
  });
  afterAll(async () => {
    listener.close();
    await server.close();
  });

  it('sends piped lines in order, refuses unknown /commands locally, and leaves at bye with exit 0', async () => {
    const child = spawn(process.execPath, [BIN, target, '--nick', 'piped', '--room', 'lobby']);
    const { finished } = watch(child, 5000);
    child.stdin.end('hi\n/bogus\n/help\nsecond line\n//slash\nbye\nafter bye\n');
    const run = await finished;
    expect(run.status, run.stderr).toBe(0);
    expect(run.ms).toBeLessThan(5000);
    expect(run.stdout).not.toContain(ESC);
    expect(run.stdout).not.toContain('> ');
    expect(run.stdout).toContain('! unknown command /bogus (not sent;');
    expect(run.stdout).toMatch(/\/join ROOM[\s\S]*\/quit, bye/);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('* bye');
    await until(() => said().length >= 3, 'three messages');
    expect(said()).toEqual(['piped: hi', 'piped: second line', 'piped: /slash']);
  });

  it('leaves with exit 0 at the end of piped input, without bye', async () => {
    const child = spawn(process.execPath, [BIN, '--target', target, '--nick', 'ending', '--room', 'lobby']);
    const { finished } = watch(child, 5000);
    child.stdin.end('only line\n');
    const run = await finished;
    expect(run.status, run.stderr).toBe(0);
    await until(() => said().length >= 1, 'the message');
    expect(said()).toEqual(['ending: only line']);
  });

  it('prompts on a terminal, says what is typed, and leaves at /quit with exit 0', async () => {
    const found = spawnSync('script', ['--version'], { encoding: 'utf8' });
    expect(found.status, 'script (util-linux) is missing: apt-get install -y util-linux').toBe(0);
    const command = [process.execPath, BIN, target, '--nick', 'typed', '--room', 'lobby'].map((word) => `'${word}'`).join(' ');
    // script runs the chat on a fresh pseudo-terminal; its stdin is what the person types.
    const child = spawn('script', ['--quiet', '--return', '--flush', '--command', command, '/dev/null']);
    const { output, finished } = watch(child, 10_000);
    await until(() => output().includes('> '), 'the prompt');
    child.stdin.write('hello from a terminal\r');
    await until(() => said().length >= 1, 'the message');
    child.stdin.write('/quit\r');
    const run = await finished;
    expect(run.status, run.stdout).toBe(0);
    expect(said()).toEqual(['typed: hello from a terminal']);
    expect(run.stdout).toContain('* joined lobby');
    expect(run.stdout).toContain(`${ESC}[`);
  });

  it('exits 3 naming the target when nothing listens there', async () => {
    const child = spawn(process.execPath, [BIN, 'tcp://127.0.0.1:1']);
    const { finished } = watch(child, 5000);
    child.stdin.end();
    const run = await finished;
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/cannot connect to tcp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
