/** Children run with a capped V8 young generation: a fast sender must not grow two heaps' new space to V8's 2 x 16 MiB. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forkingServerFor, infoOf } from './forking-server.js';

const nodeFlagsOf = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((arg) => arg.startsWith('--'));

describe.each([
  { mode: 'prefork', flags: ['--mode', 'prefork', '--workers', '1'] },
  { mode: 'per-connection', flags: ['--mode', 'per-connection'] },
])('$mode', ({ flags }) => {
  const server = forkingServerFor(flags);

  it('forks its children with --max-semi-space-size=4', async () => {
    const client = await server.open();
    const { children } = await infoOf(client);
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) expect(nodeFlagsOf(pid)).toContain('--max-semi-space-size=4');
  });
});
