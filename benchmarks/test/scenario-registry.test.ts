import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../src/scenario-registry.js';

describe('scenario registry', () => {
  it('declares every scenario the harness promises, once', () => {
    const names = SCENARIOS.map((scenario) => scenario.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'echo-large', 'echo-rate', 'connections', 'churn', 'cpu-mix', 'chat', 'http']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives each scenario steps with unique labels, the quick ones a subset of the full ones', () => {
    for (const scenario of SCENARIOS) {
      const full = scenario.steps('full');
      const quick = scenario.steps('quick');
      expect(full.length, scenario.name).toBeGreaterThan(0);
      expect(new Set(full.map((step) => step.label)).size).toBe(full.length);
      for (const step of quick)
        expect(
          full.map((s) => s.label),
          scenario.name,
        ).toContain(step.label);
      expect(scenario.shows.length).toBeGreaterThan(20);
    }
  });

  it('keeps the reference server to what socket.pipe can answer', () => {
    for (const scenario of SCENARIOS.filter((s) => s.reference)) {
      for (const step of scenario.steps('full')) {
        expect(step.load.kind).toBe('load');
        if (step.load.kind === 'load') expect(['echo', 'ping', 'churn']).toContain(step.load.args.scenario);
      }
    }
  });
});
