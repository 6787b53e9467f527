/** `--files DIR` and `--max-file` as the flags are read, and carried to every thread by sessionLimits. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MAX_FILE, parseCommandLine, sessionLimits } from '../src/index.js';

const spec = { model: 'test', summary: 'a test', flags: {} };
const root = mkdtempSync(path.join(tmpdir(), 'echoplex-flags-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const server = (argv: string[]) => {
  const parsed = parseCommandLine(argv, spec);
  if (!('server' in parsed)) throw new Error('expected a server config');
  return parsed.server;
};

describe('--files and --max-file', () => {
  it('are off and 64 MiB by default', () => {
    expect([server([]).filesDir, server([]).maxFile]).toEqual([undefined, DEFAULT_MAX_FILE]);
  });

  it('take DIR as given (./server checks it is a directory and real-paths it) and sizes like 1m', () => {
    expect(server(['--files', root]).filesDir).toBe(root);
    expect(server(['--max-file', '1m']).maxFile).toBe(1024 ** 2);
    expect(() => server(['--max-file', 'lots'])).toThrow(ConfigError);
  });

  it('reach a thread or child through sessionLimits', () => {
    const config = server(['--files', root, '--max-file', '2m']);
    expect(sessionLimits(config)).toMatchObject({ filesDir: root, maxFile: 2 * 1024 ** 2 });
  });
});
