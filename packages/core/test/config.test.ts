/** Flags: defaults from PROTOCOL.md, sizes and seconds in their short forms, clear errors for bad input. */
import { describe, expect, it } from 'vitest';
import { ConfigError, integerFlag, parseCommandLine, parseSize } from '../src/index.js';
import { versionText } from '../src/server.js';

const spec = { model: 'test', summary: 'A test model.', flags: { threads: integerFlag('handler threads', 64, 1, 1024) } };

describe('parseCommandLine', () => {
  it('applies the defaults of PROTOCOL.md', () => {
    const parsed = parseCommandLine([], spec);
    if ('help' in parsed) throw new Error('unexpected help');
    expect(parsed.server).toMatchObject({
      host: '127.0.0.1',
      port: 7000,
      backlog: 511,
      maxFrame: 1 << 20,
      maxLine: 65536,
      maxConnections: 10000,
      idleTimeoutMs: 60000,
      drainTimeoutMs: 5000,
      maxOutbound: 1 << 20,
    });
    expect(parsed.model.threads).toBe(64);
  });

  it('reads sizes, fractional seconds and model flags', () => {
    const parsed = parseCommandLine(['--max-frame', '64k', '--idle-timeout', '0.5', '--threads', '2', '--socket', '/tmp/x.sock'], spec);
    if ('help' in parsed) throw new Error('unexpected help');
    expect(parsed.server.maxFrame).toBe(65536);
    expect(parsed.server.idleTimeoutMs).toBe(500);
    expect(parsed.server.socketPath).toBe('/tmp/x.sock');
    expect(parsed.model.threads).toBe(2);
  });

  it('refuses bad input with a message naming the flag', () => {
    expect(() => parseCommandLine(['--port', 'eighty'], spec)).toThrow(/--port: expected a whole number/);
    expect(() => parseCommandLine(['--max-frame', '16m'], spec)).toThrow(ConfigError);
    expect(() => parseCommandLine(['--threads', '0'], spec)).toThrow(/--threads/);
    expect(() => parseCommandLine(['--nope'], spec)).toThrow(ConfigError);
    expect(() => parseCommandLine(['--socket', '/tmp/s', '--port', '1'], spec)).toThrow(/--socket/);
  });

  it('names the flag and its range for negative numbers, rather than calling them ambiguous', () => {
    expect(() => parseCommandLine(['--threads', '-1'], spec)).toThrow("--threads: expected a whole number from 1 to 1024, got '-1'");
    expect(() => parseCommandLine(['--idle-timeout', '-5'], spec)).toThrow(/--idle-timeout: expected seconds from 0 to 86400/);
    expect(() => parseCommandLine(['--port=-3'], spec)).toThrow(/--port: expected a whole number from 0 to 65535/);
  });

  it("reports a rule across the model's flags as a usage error", () => {
    const checked = {
      ...spec,
      flags: { ...spec.flags, prestart: integerFlag('threads at boot', 0, 0, 1024) },
      check: (flags: { threads: number; prestart: number }) =>
        flags.prestart > flags.threads ? `--prestart ${flags.prestart} is more than --threads ${flags.threads}` : undefined,
    };
    expect(() => parseCommandLine(['--threads', '2', '--prestart', '3'], checked)).toThrow(
      new ConfigError('--prestart 3 is more than --threads 2'),
    );
    expect(parseCommandLine(['--threads', '3', '--prestart', '3'], checked)).toMatchObject({ model: { threads: 3, prestart: 3 } });
  });

  it('answers -h like --help, and --version', () => {
    expect(parseCommandLine(['-h'], spec)).toEqual(parseCommandLine(['--help'], spec));
    expect(parseCommandLine(['--version'], spec)).toEqual({ version: true });
    expect(versionText('test')).toMatch(/^echoplex-test \d+\.\d+\.\d+ \(protocol 1, node v\d+/);
  });

  it('prints help listing shared and model flags', () => {
    const parsed = parseCommandLine(['--help'], spec);
    expect('help' in parsed && parsed.help).toMatch(/--max-connections[\s\S]*--threads N/);
  });

  it('parses sizes with k and m', () => {
    expect(parseSize('1m', '--x')).toBe(1048576);
    expect(() => parseSize('1.5k', '--x')).toThrow(ConfigError);
  });
});
