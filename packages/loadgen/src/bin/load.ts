#!/usr/bin/env node
/** `echoplex-load`: drives any Echoplex server and reports throughput, latency and verified errors. */
import { checkAssertions } from '../load/assertions.js';
import { FlagError, LOAD_USAGE, parseLoadFlags } from '../load/load-flags.js';
import { createProgress } from '../load/progress.js';
import { formatResult } from '../load/result-text.js';
import { runLoad } from '../load/run-load.js';
import { parseDiscoverFlags, runDiscoverCommand, wantsDiscovery } from '../udp/discover-command.js';
import { formatLoss, isUdpResult, runUdpLoad, type UdpLoadResult } from '../udp/udp-load.js';

async function main(argv: readonly string[]): Promise<number> {
  if (wantsDiscovery(argv)) return discover(argv);
  let command: ReturnType<typeof parseLoadFlags>;
  try {
    command = parseLoadFlags(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`echoplex-load: ${error.message}\nRun echoplex-load --help for the flags.\n`);
    return 2;
  }
  if (command === undefined) {
    process.stdout.write(`${LOAD_USAGE}\n`);
    return 0;
  }
  const { options, json, quiet, assertions } = command;
  const progress = quiet ? undefined : createProgress(process.stderr, options.warmupSeconds, options.durationSeconds);
  let result: Awaited<ReturnType<typeof runLoad>> | UdpLoadResult;
  const hooks = progress === undefined ? {} : { onSecond: progress.onSecond };
  try {
    result =
      command.udpTimeoutSeconds === undefined ? await runLoad(options, hooks) : await runUdpLoad(options, command.udpTimeoutSeconds, hooks);
  } catch (error) {
    progress?.done();
    process.stderr.write(`echoplex-load: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  }
  progress?.done();
  const outcomes = checkAssertions(result, assertions);
  if (json) process.stdout.write(`${JSON.stringify({ ...result, assertions: outcomes })}\n`);
  else process.stdout.write(`${formatResult(result, outcomes)}\n${isUdpResult(result) ? `${formatLoss(result)}\n` : ''}`);
  if (json && outcomes.some((outcome) => !outcome.passed)) {
    for (const outcome of outcomes.filter((o) => !o.passed))
      process.stderr.write(`FAIL ${outcome.assertion} (actual ${outcome.actualText})\n`);
  }
  if (result.connectionsAtEnd === 0) {
    const first = result.errorSamples[0] === undefined ? '' : ` (first error: ${result.errorSamples[0]})`;
    process.stderr.write(`echoplex-load: the target vanished: no connection to ${result.target} was left at the end of the run${first}\n`);
    return 3;
  }
  return outcomes.every((outcome) => outcome.passed) ? 0 : 1;
}

async function discover(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseDiscoverFlags>;
  try {
    command = parseDiscoverFlags(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`echoplex-load: ${error.message}\nRun echoplex-load --help for the flags.\n`);
    return 2;
  }
  try {
    return await runDiscoverCommand(command, process.stdout);
  } catch (error) {
    process.stderr.write(`echoplex-load: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`echoplex-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
