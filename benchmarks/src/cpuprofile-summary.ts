#!/usr/bin/env node
/**
 * Where a server's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): self and total time by
 * function and by category (the write syscalls, the session and hub, Buffer work, streams, GC), over
 * the steady state only, so start-up and shutdown do not count (docs/fanout-profile.md).
 *
 *   node benchmarks/dist/cpuprofile-summary.js FILE.cpuprofile [--marker say] [--skip-ms 1200] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface V8CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  /** µs since the previous sample (the first since startTime). */
  readonly timeDeltas: readonly number[];
}

export interface SummaryOptions {
  /** The steady state starts at the first sample with this function on the stack, plus `skipMs`, and ends at its last. */
  readonly marker: string;
  readonly skipMs: number;
}

export interface CpuProfileSummary {
  readonly windowMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  /** Self time in ms, by category and by `function url:line`, highest first. */
  readonly categories: readonly (readonly [string, number])[];
  readonly selfByFunction: readonly (readonly [string, number])[];
  /** Total time in ms (the function anywhere on the stack, counted once per sample). */
  readonly totalByFunction: readonly (readonly [string, number])[];
}

const WRITE_BINDINGS = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);

/** What a profile node's self time is spent on. */
export function categoryOf(frame: CpuProfileNode['callFrame']): string {
  const { functionName: name, url } = frame;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'native outside JS (libuv, V8 runtime)';
  if (url === '' && WRITE_BINDINGS.has(name)) return 'libuv write (the write/writev syscall and the kernel)';
  if (url.includes('packages/protocol/')) return 'protocol (parse, encode)';
  if (/packages\/core\/dist\/(session|hub|local-hub|socket-sessions|turn-bytes|idle-timer|stats)\.js/.test(url)) {
    return 'core: session, hub, socket-sessions';
  }
  if (url.includes('packages/core/')) return 'core: other';
  if (url === 'node:buffer' || url === 'node:internal/buffer') return 'node:buffer (concat, alloc, copy)';
  if (url.startsWith('node:internal/streams') || url === 'node:stream') return 'node streams';
  if (url === 'node:net' || url.startsWith('node:internal/stream_base_commons') || url.startsWith('node:internal/net')) {
    return 'node:net, stream_base_commons';
  }
  if (url.startsWith('node:internal/process/task_queues') || url === 'node:async_hooks' || name === 'runMicrotasks') {
    return 'microtask and nextTick queues';
  }
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/bootstrap')) return 'module loading';
  if (url === '') return `native: ${name}`;
  if (url.startsWith('node:')) return 'node: other';
  return 'other';
}

const functionKey = (frame: CpuProfileNode['callFrame']): string => {
  const where = frame.url === '' ? '(native)' : `${frame.url.replace(/^file:\/\/.*?\/(packages|apps)\//, '$1/')}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'} ${where}`;
};

const sortedMs = (byKey: Map<string, number>): (readonly [string, number])[] =>
  [...byKey].map(([key, us]) => [key, us / 1000] as const).sort((a, b) => b[1] - a[1]);

export function summarizeCpuProfile(profile: V8CpuProfile, options: SummaryOptions): CpuProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const node = (id: number): CpuProfileNode => {
    const found = byId.get(id);
    if (found === undefined) throw new Error(`the profile samples node ${id}, which it does not list`);
    return found;
  };
  const markedIds = new Map<number, boolean>();
  const marked = (id: number): boolean => {
    const known = markedIds.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const result = node(id).callFrame.functionName === options.marker || (up !== undefined && marked(up));
    markedIds.set(id, result);
    return result;
  };
  const { samples, timeDeltas } = profile;
  const at: number[] = [];
  let clock = 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    clock += timeDeltas[i] ?? 0;
    at.push(clock);
    if (marked(samples[i] as number)) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) throw new Error(`no sample has '${options.marker}' on its stack: pick another --marker`);
  const from = (at[first] as number) + options.skipMs * 1000;
  const to = at[last] as number;
  if (from >= to) throw new Error(`the steady state is empty: '${options.marker}' ran for less than --skip-ms`);

  const categories = new Map<string, number>();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idle = 0;
  let sampled = 0;
  for (let i = 0; i < samples.length; i++) {
    const time = at[i] as number;
    if (time < from || time > to) continue;
    // A sample stands for the time until the next one.
    const us = timeDeltas[i + 1] ?? 0;
    const id = samples[i] as number;
    const frame = node(id).callFrame;
    sampled += us;
    const category = categoryOf(frame);
    if (category === 'idle') {
      idle += us;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + us);
    self.set(functionKey(frame), (self.get(functionKey(frame)) ?? 0) + us);
    const onStack = new Set<string>();
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const upFrame = node(up).callFrame;
      if (upFrame.functionName === '(root)') continue;
      onStack.add(functionKey(upFrame));
    }
    for (const key of onStack) total.set(key, (total.get(key) ?? 0) + us);
  }
  return {
    windowMs: (to - from) / 1000,
    idleMs: idle / 1000,
    busyMs: (sampled - idle) / 1000,
    categories: sortedMs(categories),
    selfByFunction: sortedMs(self),
    totalByFunction: sortedMs(total),
  };
}

/** The summary as text, each figure a share of the busy time. */
export function formatSummary(summary: CpuProfileSummary, top: number): string {
  const share = (ms: number): string => `${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)} %`;
  const rows = (list: readonly (readonly [string, number])[]): string[] => list.slice(0, top).map(([key, ms]) => `${share(ms)}  ${key}`);
  return [
    `steady state ${(summary.windowMs / 1000).toFixed(2)} s: busy ${(summary.busyMs / 1000).toFixed(2)} s, idle ${(summary.idleMs / 1000).toFixed(2)} s; shares of busy`,
    '',
    '## self time by category',
    ...rows(summary.categories),
    '',
    '## self time by function',
    ...rows(summary.selfByFunction),
    '',
    '## total time by function',
    ...rows(summary.totalByFunction),
    '',
  ].join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      marker: { type: 'string', default: 'say' },
      'skip-ms': { type: 'string', default: '1200' },
      top: { type: 'string', default: '25' },
    },
    allowPositionals: true,
  });
  const [file] = positionals;
  const skipMs = Number(values['skip-ms']);
  const top = Number(values.top);
  if (file === undefined || positionals.length > 1 || !Number.isFinite(skipMs) || skipMs < 0 || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: cpuprofile-summary FILE.cpuprofile [--marker FUNCTION] [--skip-ms MS] [--top N]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as V8CpuProfile;
  process.stdout.write(formatSummary(summarizeCpuProfile(profile, { marker: String(values.marker), skipMs }), top));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
