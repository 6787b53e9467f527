/**
 * Reads a process and all its descendants from /proc: CPU user and system (live processes plus
 * the children they have reaped, so a fork-per-connection server's dead children still count),
 * RSS summed over the tree, threads and processes. Sampled over a run to get deltas and peaks.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeSample {
  readonly at: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly rssBytes: number;
  readonly threads: number;
  readonly processes: number;
}

export interface TreeUsage {
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** CPU seconds per wall second: 1.0 is one core kept busy. */
  readonly cores: number;
  readonly peakRssBytes: number;
  readonly firstRssBytes: number;
  readonly maxThreads: number;
  readonly maxProcesses: number;
}

interface StatLine {
  readonly pid: number;
  readonly ppid: number;
  readonly ticks: number;
  readonly userTicks: number;
  readonly systemTicks: number;
  readonly threads: number;
  readonly rssPages: number;
}

const clockTicks = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const pageBytes = ((): number => {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  } catch {
    return 4096;
  }
})();

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): StatLine | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is stat field 3 (state): field n is fields[n - 3].
  const field = (n: number): number => Number(fields[n - 3]);
  const userTicks = field(14) + field(16);
  const systemTicks = field(15) + field(17);
  return { pid, ppid: field(4), ticks: userTicks + systemTicks, userTicks, systemTicks, threads: field(20), rssPages: field(24) };
}

function readStat(pid: number): StatLine | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every live process whose ancestry reaches `root`, `root` included. */
function processTree(root: number): StatLine[] {
  const all: StatLine[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) all.push(stat);
  }
  const children = new Map<number, StatLine[]>();
  for (const stat of all) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const rootStat = all.find((stat) => stat.pid === root);
  if (rootStat === undefined) return [];
  const tree = [rootStat];
  // Breadth-first over a finite snapshot: each process is visited once.
  for (let i = 0; i < tree.length && i < all.length; i++) tree.push(...(children.get((tree[i] as StatLine).pid) ?? []));
  return tree;
}

export function sampleTree(root: number): TreeSample | undefined {
  const tree = processTree(root);
  if (tree.length === 0) return undefined;
  let user = 0;
  let system = 0;
  let rss = 0;
  let threads = 0;
  for (const stat of tree) {
    user += stat.userTicks;
    system += stat.systemTicks;
    rss += stat.rssPages;
    threads += stat.threads;
  }
  return {
    at: performance.now(),
    userSeconds: user / clockTicks,
    systemSeconds: system / clockTicks,
    rssBytes: rss * pageBytes,
    threads,
    processes: tree.length,
  };
}

/** Samples a tree on an interval between `start` and `stop`, and sums up the window. */
export class TreeSampler {
  private readonly samples: TreeSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: number,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.take();
    this.timer = setInterval(() => this.take(), this.intervalMs);
  }

  /** Takes a last sample and returns the window's usage (zeroes if the process was never seen). */
  stop(): TreeUsage {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.take();
    return summariseSamples(this.samples);
  }

  private take(): void {
    const sample = sampleTree(this.root);
    if (sample !== undefined) this.samples.push(sample);
  }
}

export function summariseSamples(samples: readonly TreeSample[]): TreeUsage {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) {
    return {
      wallSeconds: 0,
      userSeconds: 0,
      systemSeconds: 0,
      cores: 0,
      peakRssBytes: 0,
      firstRssBytes: 0,
      maxThreads: 0,
      maxProcesses: 0,
    };
  }
  const wallSeconds = (last.at - first.at) / 1000;
  const userSeconds = Math.max(0, last.userSeconds - first.userSeconds);
  const systemSeconds = Math.max(0, last.systemSeconds - first.systemSeconds);
  return {
    wallSeconds,
    userSeconds,
    systemSeconds,
    cores: wallSeconds > 0 ? (userSeconds + systemSeconds) / wallSeconds : 0,
    peakRssBytes: Math.max(...samples.map((sample) => sample.rssBytes)),
    firstRssBytes: first.rssBytes,
    maxThreads: Math.max(...samples.map((sample) => sample.threads)),
    maxProcesses: Math.max(...samples.map((sample) => sample.processes)),
  };
}
