import { describe, expect, it } from 'vitest';
import { modelLimit } from '../src/model-flags.js';
import { connectionsOf, SCENARIOS } from '../src/scenario-registry.js';

describe('model flags', () => {
  it('gives blocking a thread for every connection of the largest step, never fewer than its default, and prestarts them', () => {
    expect(modelLimit('blocking', 100)).toMatchObject({ args: ['--threads', '108', '--prestart', '100'], capacity: 108 });
    expect(modelLimit('blocking', 10)).toMatchObject({ args: ['--threads', '64', '--prestart', '10'], capacity: 64 });
    // Its threads are isolates that compile their own code: the first step on them gets a longer warmup.
    expect(modelLimit('blocking', 100).freshWarmupSeconds).toBe(3);
    expect(modelLimit('blocking', 1000).args.slice(2), 'a boot of ~12 s at most').toEqual(['--prestart', '128']);
  });

  it('leaves models without a per-connection cost as they ship', () => {
    expect(modelLimit('event-loop', 5000)).toEqual({ args: [], capacity: Number.POSITIVE_INFINITY, freshWarmupSeconds: 0 });
  });

  it('counts the connections of every kind of step', () => {
    const quick = SCENARIOS.flatMap((scenario) => scenario.steps('quick').map((step) => [scenario.name, step.label, connectionsOf(step)]));
    expect(quick).toEqual(
      expect.arrayContaining([
        ['echo', 'c100', 100],
        ['cpu-mix', 'w20k', 10],
        ['chat', 'm100', 100],
        ['http', 'GET /ping', 10],
      ]),
    );
  });
});
