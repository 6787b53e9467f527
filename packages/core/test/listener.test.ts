/** Listening: a flag that cannot work is a usage error naming what is wrong; a port taken is the machine's refusal, not a usage error. */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseCommandLine } from '../src/index.js';
import { ListenError, listen } from '../src/node.js';

const configFor = (argv: string[]) => {
  const parsed = parseCommandLine(argv, { model: 'test', summary: 'A test model.', flags: {} });
  if (!('server' in parsed)) throw new Error('expected a server config');
  return parsed.server;
};

const opened: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of opened.splice(0)) server.close();
});

describe('listen', () => {
  it('names the missing directory of a --socket path', async () => {
    const server = createServer();
    const attempt = listen(server, configFor(['--socket', '/no/such/dir/e.sock']));
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow('--socket /no/such/dir/e.sock: the directory /no/such/dir does not exist');
  });

  it('reports a port in use as a ListenError that says what to do', async () => {
    const first = createServer();
    opened.push(first);
    const address = await listen(first, configFor(['--port', '0']));
    const port = address.split(':').at(-1) as string;
    const second = createServer();
    opened.push(second);
    const attempt = listen(second, configFor(['--port', port]));
    await expect(attempt).rejects.toThrow(ListenError);
    await expect(attempt).rejects.toThrow(/EADDRINUSE: another server listens there; pick another --port, or --port 0/);
  });
});
