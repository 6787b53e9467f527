/**
 * chat-cluster's servers as the harness starts them: two event-loop servers on one redis-server
 * (cluster-server.js), announced on one line, a fanout dealt over both whose members on the
 * second server hear the publisher through Redis, and a clean stop that takes Redis with it.
 */
import path from 'node:path';
import { parseTarget, runLoad } from '@echoplex/loadgen';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterOf, shareOfFlags } from '../src/chat-cluster-scenario.js';
import { cpuProfile } from '../src/cpu-profile.js';
import { repoRoot } from '../src/models.js';
import { type RunningServer, startServer } from '../src/server-process.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cluster-server.js', () => {
  it("gives each server its share of blocking's prestarted threads, and leaves other flags alone", () => {
    expect(shareOfFlags(['--threads', '108', '--prestart', '100'], 2)).toEqual(['--threads', '108', '--prestart', '51']);
    expect(shareOfFlags(['--threads', '64', '--prestart', '1'], 2)).toEqual(['--threads', '64', '--prestart', '1']);
    expect(shareOfFlags(['--workers', '2'], 2)).toEqual(['--workers', '2']);
  });

  let cluster: RunningServer | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs two servers on one Redis; a fanout over both gets every message to members of each', { timeout: 30_000 }, async () => {
    const model = { name: 'event-loop', script: path.join(repoRoot, 'apps', 'event-loop', 'dist', 'main.js'), reference: false };
    const { entry, args } = clusterOf(2).launch(model, ['--log-level', 'warn']);
    cluster = await startServer(entry, cpuProfile('shared'), args);
    const [first, second, ...more] = cluster.targets ?? [];
    expect(more).toEqual([]);
    expect(first).toBe(cluster.target);
    expect(second).not.toBe(first);
    expect(cluster.hubPid).toBeGreaterThan(0);
    const members = 20;
    const window = 4;
    const result = await runLoad({
      target: parseTarget(first as string),
      extraTargets: [parseTarget(second as string)],
      scenario: 'fanout',
      connections: members,
      window,
      size: 16,
      durationSeconds: 0.5,
      warmupSeconds: 0,
    });
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    // A message completes only once all 20 members have it, the 10 on the second server too: far more
    // than one window's worth of deliveries means they heard the publisher through Redis, again and again.
    expect(result.messages).toBeGreaterThan(members * window * 5);
    expect(result.messages).toBeLessThanOrEqual((result.sent ?? 0) * members + window * members);
    expect(result.target).toBe(`${first} ${second}`);
    // And the second server itself pushed them: half the members were dealt to it.
    const metrics = await (await fetch(`${(second as string).replace('tcp:', 'http:')}/metrics`)).text();
    const pushed = Number(/^echoplex_pushed_messages_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1] ?? 0);
    expect(pushed).toBeGreaterThan((members / 2) * window * 5);
    const hubPid = cluster.hubPid as number;
    const exit = await cluster.stop();
    cluster = undefined;
    expect(exit).toMatchObject({ code: 0, clean: true });
    expect(alive(hubPid)).toBe(false);
  });
});
