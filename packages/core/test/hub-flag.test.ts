/** `--hub`: a redis:// URL or nothing (the server alone); anything else is a usage error that names the form. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseCommandLine } from '../src/index.js';
import { publicHubName } from '../src/server.js';

const spec = { model: 'test', summary: 'A test model.', flags: {} };

const hubOf = (argv: string[]): string | undefined => {
  const parsed = parseCommandLine(argv, spec);
  if (!('server' in parsed)) throw new Error('expected a server config');
  return parsed.server.hub;
};

describe('--hub', () => {
  it('is absent by default: rooms and nicks span this server alone', () => {
    expect(hubOf([])).toBeUndefined();
  });

  it('takes redis://HOST:PORT, a database and credentials', () => {
    expect(hubOf(['--hub', 'redis://127.0.0.1:6379'])).toBe('redis://127.0.0.1:6379');
    expect(hubOf(['--hub', 'redis://cache.internal:6380/2'])).toBe('redis://cache.internal:6380/2');
    expect(hubOf(['--hub', 'redis://user:secret@10.0.0.5:6379'])).toBe('redis://user:secret@10.0.0.5:6379');
  });

  it.each(['http://127.0.0.1:6379', 'redis://', 'redis://h:6379/x', 'localhost:6379', 'redis://h:6379?db=1'])('refuses %s', (raw) => {
    expect(() => hubOf(['--hub', raw])).toThrow(ConfigError);
    expect(() => hubOf(['--hub', raw])).toThrow(/--hub: expected redis:\/\/HOST:PORT\[\/DB\]/);
  });

  it('shows the URL without credentials in INFO and logs', () => {
    expect(publicHubName('redis://user:secret@10.0.0.5:6379/1')).toBe('redis://10.0.0.5:6379/1');
    expect(publicHubName('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
