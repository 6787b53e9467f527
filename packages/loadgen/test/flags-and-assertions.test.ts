import { describe, expect, it } from 'vitest';
import { checkAssertions, parseAssertion } from '../src/load/assertions.js';
import { FlagError, parseLoadFlags } from '../src/load/load-flags.js';
import type { LoadResult } from '../src/load/load-result.js';

describe('parseLoadFlags', () => {
  it('reads a full command line', () => {
    const command = parseLoadFlags([
      '--target',
      'unix:/tmp/s',
      '--connections',
      '5',
      '--duration',
      '500ms',
      '--size',
      '1k',
      '--rate',
      '100',
      '--assert',
      'p99<5ms',
    ]);
    expect(command?.options).toMatchObject({
      target: { kind: 'unix', path: '/tmp/s' },
      connections: 5,
      durationSeconds: 0.5,
      size: 1024,
      rate: 100,
    });
    expect(command?.assertions[0]).toMatchObject({ metric: 'p99', operator: '<', value: 5000 });
  });

  it("takes wrk's and autocannon's short flags, and the target as the positional argument", () => {
    const command = parseLoadFlags(['-c', '50', '-d', '2s', '-t', '4', '-R', '1000', '-p', '2', '-j', 'tcp://127.0.0.1:7000']);
    expect(command?.options).toMatchObject({
      target: { kind: 'tcp', host: '127.0.0.1', port: 7000 },
      connections: 50,
      durationSeconds: 2,
      threads: 4,
      rate: 1000,
      pipeline: 2,
    });
    expect(command?.json).toBe(true);
    expect(parseLoadFlags(['127.0.0.1:7000'])?.options.target).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 7000 });
  });

  it("takes several targets for a fanout across servers: the first is the publisher's, the rest in extraTargets", () => {
    const options = parseLoadFlags(['--scenario', 'fanout', '--target', 'a:1', '--target', 'unix:/tmp/b'])?.options;
    expect(options?.target).toEqual({ kind: 'tcp', host: 'a', port: 1 });
    expect(options?.extraTargets).toEqual([{ kind: 'unix', path: '/tmp/b' }]);
    expect(parseLoadFlags(['--scenario', 'fanout', 'a:1', 'b:2', 'c:3'])?.options.extraTargets).toHaveLength(2);
    expect(parseLoadFlags(['a:1'])?.options.extraTargets).toEqual([]);
  });

  it.each([
    [['--connections', '5'], /a target is required/],
    [['a:1', 'b:2'], /one target at most/],
    [['--target', 'a:1', 'b:2'], /give the targets one way/],
    [['--target', 'a:1', '--target', 'b:2'], /one target at most \(several are for --scenario fanout/],
    [['--scenario', 'fanout', '--redis', 'a:1', 'b:2'], /several targets are for fanout across Echoplex servers/],
    [['-c', '-1', 'a:1'], /connections must be an integer in 1\.\.100000/],
    [['--threads', '-1', 'a:1'], /threads must be an integer in 0\.\.64/],
    [['--target', 'tcp://127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
    [['--target', 'tcp://127.0.0.1:1', '--connections', 'many'], /--connections takes a whole number/],
    [['--target', 'tcp://127.0.0.1:1', '--scenario', 'dance'], /--scenario must be one of/],
    [['--target', 'nowhere'], /--target: target must be/],
    [['--target', 'tcp://127.0.0.1:1', '--assert', 'p99<<1'], /--assert: cannot read assertion/],
    [['--target', 'tcp://127.0.0.1:1', '--assert', 'speed>1'], /unknown metric 'speed'/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseLoadFlags(argv)).toThrow(FlagError);
    expect(() => parseLoadFlags(argv)).toThrow(message);
  });
});

describe('assertions', () => {
  const result = {
    errors: 0,
    messagesPerSecond: 1000,
    latencyMicros: { p50: 100, p90: 200, p99: 4000, p999: 9000, p9999: 9000, max: 9000, mean: 150, count: 10 },
  } as unknown as LoadResult;

  it('holds latency in microseconds whatever unit was written', () => {
    const parse = (text: string) => {
      const assertion = parseAssertion(text);
      if (typeof assertion === 'string') throw new Error(assertion);
      return assertion;
    };
    expect(checkAssertions(result, [parse('p99<5ms'), parse('errors==0'), parse('messagesPerSecond>=1000')]).every((o) => o.passed)).toBe(
      true,
    );
    expect(checkAssertions(result, [parse('p99<3ms')])[0]).toMatchObject({ passed: false, actual: 4000, actualText: '4.00ms' });
    expect(checkAssertions(result, [parse('p50<1us')])[0]).toMatchObject({ passed: false, actualText: '100µs' });
    expect(checkAssertions(result, [parse('messagesPerSecond>2000')])[0]).toMatchObject({ passed: false, actualText: '1,000' });
    expect(checkAssertions(result, [parse('max<=0.01s')])[0]?.passed).toBe(true);
  });
});
