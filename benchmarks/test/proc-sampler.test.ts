import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseStat, sampleTree, TreeSampler } from '../src/proc-sampler.js';

describe('parseStat', () => {
  it('survives a command name with spaces and parentheses', () => {
    const fields = ['S', '42', ...Array.from({ length: 9 }, () => '0'), '150', '50', '7', '3', '0', '0', '4', '0', '0', '1000', '256'];
    const stat = parseStat(`1234 (we (ird) name) ${fields.join(' ')}`);
    expect(stat).toMatchObject({ pid: 1234, ppid: 42, userTicks: 157, systemTicks: 53, threads: 4, rssPages: 256 });
  });
});

describe('TreeSampler', () => {
  it('sums a child and its grandchild: processes, threads, RSS and CPU', async () => {
    // The child spawns a grandchild that spins for a while, and lives as long as it does; both are in the tree.
    const script = `
      const { spawn } = require('node:child_process');
      spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end) {}'], { stdio: 'inherit' });
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const sampler = new TreeSampler(child.pid as number, 50);
    // Until the grandchild is up (a loaded machine takes longer than an idle one to start two node processes).
    for (let waited = 0; (sampleTree(child.pid as number)?.processes ?? 0) < 2 && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sampler.start();
    const snapshot = sampleTree(child.pid as number);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const usage = sampler.stop();
    child.kill();
    expect(snapshot?.processes).toBe(2);
    expect(usage.maxProcesses).toBe(2);
    expect(usage.maxThreads).toBeGreaterThanOrEqual(2);
    expect(usage.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    // The grandchild spins a core: the tree used well over a tenth of one.
    expect(usage.cores).toBeGreaterThan(0.1);
    expect(usage.wallSeconds).toBeGreaterThan(0.5);
  }, 10_000);

  it('returns zeroes for a process that does not exist', () => {
    const sampler = new TreeSampler(2 ** 22 + 12345);
    sampler.start();
    expect(sampler.stop()).toMatchObject({ wallSeconds: 0, cores: 0, maxProcesses: 0 });
  });
});
