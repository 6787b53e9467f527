/** The `npm run bench` command line: what to run, or which two results files to compare. */
import { parseArgs } from 'node:util';
import type { ProfileName } from './cpu-profile.js';
import type { Depth } from './scenario-registry.js';

export class BenchFlagError extends Error {
  override readonly name = 'BenchFlagError';
}

export type BenchCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'compare'; readonly before: string; readonly after: string; readonly all: boolean }
  | {
      readonly kind: 'run';
      readonly depth: Depth;
      readonly models: readonly string[] | undefined;
      readonly scenarios: readonly string[] | undefined;
      readonly runs: number | undefined;
      readonly durationSeconds: number | undefined;
      readonly warmupSeconds: number | undefined;
      readonly maxExtraRuns: number | undefined;
      /** No re-run starts after this many seconds of the bench. */
      readonly rerunUntilSeconds: number | undefined;
      readonly profile: ProfileName;
      readonly outDir: string | undefined;
    };

export const BENCH_USAGE = `Usage: npm run bench -- [flags]

  --full                 the whole matrix (every scenario, every step); default: the quick set
  --models a,b           models to run (apps/<model>, and 'reference'); default: all built ones
  --scenarios a,b        scenarios to run; default: the quick set, or all with --full
  --runs N               runs per model, interleaved A B C A B C (default 3)
  --duration T           measured seconds per step (default 1 quick, 2 full)
  --warmup T             warmup seconds per step, after the ready phase (default 0.25 quick, 0.5 full)
  --reruns N             re-runs at most per row spread over 20% (default 2; 0: none)
  --rerun-until T        start no re-run after T seconds of the bench (default 300 quick, 2160 full)
  --profile split|shared CPU placement: split pins server to CPU 0 and load to CPU 1 (default split)
  --out DIR              where to write results (default benchmarks/results/<timestamp>)
  --compare OLD NEW      compare two results.json files instead of running (--all shows unchanged metrics)
  --list                 list the scenarios and models, then exit
  --help`;

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/.exec(text.trim());
  if (!match || !(Number(match[1]) > 0)) throw new BenchFlagError(`--${flag} takes seconds like 2, 2s or 500ms, got '${text}'`);
  return match[2] === 'ms' ? Number(match[1]) / 1000 : Number(match[1]);
}

const parseStrictly = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      full: { type: 'boolean' },
      models: { type: 'string' },
      scenarios: { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      reruns: { type: 'string' },
      'rerun-until': { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
      compare: { type: 'boolean' },
      all: { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });

export function parseBenchFlags(argv: readonly string[]): BenchCommand | { readonly kind: 'list' } {
  let parsed: ReturnType<typeof parseStrictly>;
  try {
    parsed = parseStrictly(argv);
  } catch (error) {
    throw new BenchFlagError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.list) return { kind: 'list' };
  if (values.compare) {
    if (positionals.length !== 2) throw new BenchFlagError('--compare takes two results.json files: --compare old.json new.json');
    return { kind: 'compare', before: positionals[0] as string, after: positionals[1] as string, all: values.all ?? false };
  }
  if (positionals.length > 0) throw new BenchFlagError(`unexpected argument '${positionals[0]}'`);
  const profile = values.profile ?? 'split';
  if (profile !== 'split' && profile !== 'shared') throw new BenchFlagError(`--profile must be split or shared, got '${profile}'`);
  let runs: number | undefined;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > 100)
      throw new BenchFlagError(`--runs takes a whole number 1..100, got '${values.runs}'`);
  }
  let maxExtraRuns: number | undefined;
  if (values.reruns !== undefined) {
    maxExtraRuns = Number(values.reruns);
    if (!Number.isInteger(maxExtraRuns) || maxExtraRuns < 0 || maxExtraRuns > 20)
      throw new BenchFlagError(`--reruns takes a whole number 0..20, got '${values.reruns}'`);
  }
  return {
    kind: 'run',
    maxExtraRuns,
    rerunUntilSeconds: seconds(values['rerun-until'], 'rerun-until'),
    depth: values.full ? 'full' : 'quick',
    models: list(values.models),
    scenarios: list(values.scenarios),
    runs,
    durationSeconds: seconds(values.duration, 'duration'),
    warmupSeconds: seconds(values.warmup, 'warmup'),
    profile,
    outDir: values.out,
  };
}
