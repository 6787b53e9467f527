/** Writes the suite's results as docs/reliability.md: one table, every variant a row, then the figures behind each cell. */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { CheckName, SuiteSizes, VariantResults } from './suite.js';

const COLUMN_TITLES: Record<CheckName, string> = {
  http: 'HTTP refusals (10 cases)',
  slowloris: 'slowloris',
  'max-connections': '--max-connections 50, 60 clients',
  'fast-sender': 'fast sender',
  'slow-reader': 'slow reader, fast sender',
  fuzz: 'fuzz',
  sigterm: 'SIGTERM under load',
  crash: 'crash isolation',
  soak: 'soak',
};

const escapeCell = (text: string): string => text.replaceAll('|', '\\|');

function commit(root: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes in the tree)` : sha;
  } catch {
    return 'unknown';
  }
}

/** One run of the suite: when, on what, with which sizes, over which variants and checks. */
export interface RunStamp {
  readonly at: string;
  readonly commit: string;
  readonly node: string;
  readonly cores: number;
  readonly sizes: SuiteSizes;
  readonly variants: readonly string[];
  readonly checks: readonly CheckName[];
}

export const stampRun = (root: string, sizes: SuiteSizes, variants: readonly string[], checks: readonly CheckName[]): RunStamp => ({
  at: new Date().toISOString(),
  commit: commit(root),
  node: process.version,
  cores: cpus().length,
  sizes,
  variants,
  checks,
});

function describeRun(run: RunStamp, many: boolean): string {
  const { sizes } = run;
  const scope = many ? ` (${run.variants.join(', ')}: ${run.checks.join(', ')})` : '';
  const parts: string[] = [];
  if (run.checks.includes('slowloris')) {
    parts.push(
      `slowloris: ${sizes.slowlorisConnections} connections, a byte every ${sizes.slowlorisByteEveryMs / 1000} s, --idle-timeout ${sizes.slowlorisIdleTimeoutS}` +
        `${sizes.smallPools ? ' (small pools)' : ' (default pools)'}`,
    );
  }
  if (run.checks.includes('fuzz'))
    parts.push(`fuzz: seed ${sizes.seed}, ${sizes.fuzzCount} inputs per dialect, ${sizes.fuzzConcurrency} at once`);
  if (run.checks.includes('fast-sender') || run.checks.includes('slow-reader')) {
    parts.push(`fast sender: ${sizes.fastSenderMessages} SAYs of 32 KiB`);
  }
  if (run.checks.includes('soak')) parts.push(`soak: ${sizes.soakSeconds} s unless its cell says otherwise`);
  return `Run${scope}: ${run.at}, commit ${run.commit}, Node ${run.node}, ${run.cores} cores. ${parts.join('; ')}.`;
}

export function renderReport(results: readonly VariantResults[], checks: readonly CheckName[], runs: readonly RunStamp[]): string {
  const lines: string[] = [];
  lines.push('# Reliability: what one client must never do to a server');
  lines.push('');
  lines.push(
    'Written by `npm run reliability` (the `reliability/` workspace), which probes every model and variant from outside, ' +
      'over real sockets, against PROTOCOL.md. A cell is ✅ when the check holds, ❌ when it does not; the figures behind each cell follow the table.',
  );
  for (const run of runs) {
    lines.push('');
    lines.push(describeRun(run, runs.length > 1));
  }
  lines.push('');
  lines.push(`| variant | ${checks.map((check) => COLUMN_TITLES[check]).join(' | ')} |`);
  lines.push(`| --- | ${checks.map(() => '---').join(' | ')} |`);
  for (const { variant, checks: byCheck } of results) {
    const cells = checks.map((check) => {
      const result = byCheck[check];
      return result === undefined ? '—' : `${result.pass ? '✅' : '❌'} ${escapeCell(result.cell)}`;
    });
    lines.push(`| ${[variant.model, ...variant.flags].join(' ')} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('## What each check does and requires');
  lines.push('');
  lines.push(
    "- **Memory** is the server tree's: the RSS of the process started, plus the private pages (USS) of each child it forked. Every Node process maps the same node binary and libraries, and what it touched of them (~41 MiB of a prefork child's 52 MiB at rest) is the same physical memory in each: summing RSS over a tree counts it once per process. Summed that way a resting prefork tree (parent and two children) 'holds' ~176 MiB, while it takes ~95 MiB from the machine (parent 70-76 MiB RSS, each child ~11 MiB private). For one process, with or without threads, the two are the same. The slowloris figures show the RSS sum beside it (peakRssSumMiB).",
  );
  lines.push(
    '- **HTTP refusals**: a negative chunk size, a header line without a colon, whitespace before a colon, HTTP/1.1 without Host, chunk sizes `zz` and `5zz`, and the smuggling family (Content-Length with Transfer-Encoding, two Content-Lengths, `chunked, identity`, obs-fold): each answered 400 and closed within 2 s, a fresh PING answered within 1 s after each, memory under 200 MiB.',
  );
  lines.push(
    '- **slowloris**: every slow connection cut (or refused at connect) within --idle-timeout + 3 s of its connect; fresh PINGs every 0.4 s all answered (PONG or ERR BUSY) within 1 s; memory under a bound: 200 MiB for the models whose connections cost no thread or process (event-loop, worker-pool, prefork, coroutine); for blocking 1 GiB, since its 64 handler threads (the default --threads) are each a V8 isolate of ~11 MiB and all are busy; for per-connection forking 200 MiB + 16 MiB for each of its 40 children (the default --max-children), the private memory of a child with its connection. Shrinking those pools shrinks the bound.',
  );
  lines.push(
    '- **--max-connections 50**: 60 clients each PING and stay. At most 50 are served or waiting for a thread or child, the others get ERR BUSY at once; after 5 served ones leave, waiting ones are served; within --idle-timeout (15 s) + 3 s of the last connect no client is left without an answer (a waiting one gets ERR BUSY).',
  );
  lines.push(
    '- **fast sender**: a member alone in a room sends SAYs of 32 KiB as fast as its socket takes them, then a PING; the server tree may grow by less than 64 MiB (peak over the run, sampled every 100 ms, minus the start).',
  );
  lines.push(
    "- **slow reader, fast sender**: four connections: one member that stops reading (it reads 50 ms in every 500 ms) and a filler on one worker or child, a sender and a member that reads everything on the other (each says where INFO's servedBy puts it; the cell says 'across a relay' when that worked). The slow one first sends WORK 1000000 (about 2 s of its worker or child), then the sender sends SAYs of 32 KiB as fast as the reading member keeps up (within 512 KiB). The pushes for the slow one must not pile up in the relay to its busy worker or child (main thread to worker, parent to child): the senders are held instead. It gets ERR SLOW_CONSUMER (--max-outbound, 1 MiB) and is closed, the reading member gets every MSG and no ERR, the sender is answered, and the server tree grows by less than 160 MiB. Without the hold (measured on worker-pool and prefork at 17c9e95 with it disabled) the tree grew 371 and 277 MiB; with it, 90 and 106 MiB, the V8 heaps of up to three processes churning through 512 MiB of 32 KiB strings (event-loop, no relay: 73 MiB).",
  );
  lines.push(
    '- **fuzz**: seeded random inputs per dialect (binary frames with lying lengths and types, text lines with invalid UTF-8, NUL, CR and over-long lines, HTTP heads with broken framing), each on its own connection, 8 at once unless the run says otherwise; the server stays up, a fresh PING is answered within 1 s, memory under 400 MiB (per-connection forking: 1 GiB, a child per input in flight).',
  );
  lines.push(
    '- **SIGTERM under load**: 20 clients in a closed loop of PINGs; on SIGTERM every client gets its PONG or ERR SHUTTING_DOWN (none closed with a request unanswered), the server exits 0 within --drain-timeout (5 s) + 1 s, and no child process outlives it.',
  );
  lines.push(
    '- **crash isolation**: the thread (blocking) or worker (worker-pool), both with `--inject-faults`, or child (SIGKILL) serving one connection dies; that connection closes, a witness served elsewhere and a fresh client are still answered.',
  );
  lines.push(
    '- **soak**: 20 echo clients in a closed loop plus 2 rooms of 4 members each saying something every 100 ms; RSS sampled (every 5 s in a soak of 5 minutes or more, else every second). After the warm-up (a third of the run, 2 minutes at most) the RSS floor, the least RSS of each window (a minute in a 10-minute soak, a sixth of the rest in a shorter one), must rise by less than 1 MiB/min (least squares; the slope of all samples is shown beside it), and nothing may be lost (every ECHO answered, every MSG delivered).',
  );
  lines.push('');
  lines.push('## Figures');
  for (const check of checks) {
    lines.push('');
    lines.push(`### ${COLUMN_TITLES[check]}`);
    lines.push('');
    for (const { variant, checks: byCheck } of results) {
      const result = byCheck[check];
      if (result === undefined) continue;
      const figures = Object.entries(result.details)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ');
      lines.push(`- ${[variant.model, ...variant.flags].join(' ')}: ${figures === '' ? escapeCell(result.cell) : figures}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
