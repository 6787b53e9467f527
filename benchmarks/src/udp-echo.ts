#!/usr/bin/env node
/**
 * The `udp-echo` bench: per model, 64-byte ECHO over TCP beside the same ECHO over UDP (closed
 * model), then UDP offered more than it can answer (open model): datagrams per second, latency
 * and loss, with the server's CPU. No framing and no connection state on one side, and on the
 * other the loss that UDP hides until somebody counts. Run it alone:
 * `flock /tmp/echoplex-bench.lock node benchmarks/dist/udp-echo.js [--duration 3] [--models a,b]`.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuProfile } from './cpu-profile.js';
import { LOAD_BIN, type LoadArgs, type LoadOutcome, loadGeneratorArgv, runLoadProcess } from './load-process.js';
import { modelLimit } from './model-flags.js';
import { discoverModels, repoRoot } from './models.js';
import { startServer } from './server-process.js';
import { UDP_ECHO_STEPS, type UdpEchoStep } from './udp-echo-steps.js';

/** What `echoplex-load --udp --json` adds to a load result. */
type UdpOutcome = LoadOutcome & { readonly sent?: number; readonly lost?: number; readonly lossRate?: number };

interface Row {
  readonly model: string;
  readonly step: string;
  readonly perSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly lossRate: number | undefined;
  readonly errors: number;
  readonly serverCores: number;
}

/** A UDP port nobody holds right now, for `--udp PORT` (the harness's start-up reads only the TCP address). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

function argvFor(step: UdpEchoStep, tcpTarget: string, udpPort: number, durationSeconds: number): string[] {
  const args: LoadArgs = { ...step.args, duration: durationSeconds, warmup: 1 };
  if (step.transport === 'tcp') return loadGeneratorArgv(tcpTarget, args);
  return loadGeneratorArgv(`127.0.0.1:${udpPort}`, { ...args, udp: true });
}

const micros = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${Math.round(value)} µs`);

function markdown(rows: readonly Row[], durationSeconds: number): string {
  const lines = [
    `| model | step | replies/s | p50 | p99 | loss | errors | server CPU |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map(
      (row) =>
        `| ${row.model} | ${row.step} | ${Math.round(row.perSecond).toLocaleString('en-US')} | ${micros(row.p50Micros)} | ${micros(row.p99Micros)} | ` +
        `${row.lossRate === undefined ? '—' : `${(row.lossRate * 100).toFixed(2)}%`} | ${row.errors} | ${row.serverCores.toFixed(2)} |`,
    ),
  ];
  return `udp-echo: ${durationSeconds}s per step after 1s warmup, 64-byte ECHO, server on CPU 0 and load on CPU 1 when taskset allows\n\n${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' } } });
  const durationSeconds = Number(values.duration ?? '3');
  if (!(durationSeconds > 0 && durationSeconds <= 60)) throw new Error(`--duration takes 0..60 seconds, got '${values.duration}'`);
  const wanted = values.models?.split(',');
  const models = discoverModels().filter((model) => !model.reference && model.protocol === undefined);
  const chosen = wanted === undefined ? models : models.filter((model) => wanted.includes(model.name));
  if (chosen.length === 0) throw new Error(`no built model matches --models ${values.models} (build with npm run build)`);
  const profile = cpuProfile('split');
  const rows: Row[] = [];
  for (const model of chosen) {
    const udpPort = await freeUdpPort();
    const limit = modelLimit(model.name, Math.max(...UDP_ECHO_STEPS.map((step) => Number(step.args.connections))));
    const server = await startServer(model, profile, [...limit.args, '--udp', String(udpPort)]);
    try {
      for (const step of UDP_ECHO_STEPS) {
        const { outcome, usage } = await runLoadProcess(
          argvFor(step, server.target, udpPort, durationSeconds),
          profile,
          (durationSeconds + 60) * 1000,
        );
        const udp = outcome as UdpOutcome;
        const row: Row = {
          model: model.name,
          step: step.label,
          perSecond: outcome.messagesPerSecond,
          p50Micros: outcome.latencyMicros.p50,
          p99Micros: outcome.latencyMicros.p99,
          lossRate: udp.lossRate,
          errors: outcome.errors,
          serverCores: usage.cores,
        };
        rows.push(row);
        process.stderr.write(`${model.name} ${step.label}: ${Math.round(row.perSecond)}/s, p99 ${micros(row.p99Micros)}\n`);
      }
    } finally {
      await server.stop();
    }
  }
  const report = markdown(rows, durationSeconds);
  process.stdout.write(report);
  const out = values.out ?? path.join(repoRoot, 'benchmarks', 'results', `udp-echo-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, report);
  process.stderr.write(`written to ${out} (load generator: ${LOAD_BIN})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`udp-echo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
