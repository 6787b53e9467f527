/** The `echoplex-load` command line, read into load options; any mistake is a `FlagError` (exit code 2). */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseTarget, TargetError } from '../target.js';
import { DEFAULT_UDP_TIMEOUT_SECONDS, validateUdpOptions } from '../udp/udp-load.js';
import { type Assertion, parseAssertion } from './assertions.js';
import { DEFAULT_LOAD_OPTIONS, type LoadOptions, SCENARIOS, type ScenarioName, validateLoadOptions, withDefaults } from './load-options.js';

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

export interface LoadCommand {
  readonly options: LoadOptions;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly assertions: readonly Assertion[];
  /** `--udp`: the run goes over datagrams, and a request unanswered this long is lost. Absent: TCP. */
  readonly udpTimeoutSeconds?: number;
}

export const LOAD_USAGE = `Usage: echoplex-load [flags] TARGET
       echoplex-load --target TARGET [flags]
       echoplex-load --scenario fanout [flags] TARGET TARGET...   (servers on one --hub)

TARGET is tcp://HOST:PORT, HOST:PORT, unix:/PATH or a socket path. Short flags are wrk's and
autocannon's: -c connections, -d duration, -t threads, -R rate, -p pipeline, -j json.

Load model
  --scenario NAME        ${SCENARIOS.join('|')} (default ${DEFAULT_LOAD_OPTIONS.scenario})
  -c, --connections N    concurrent connections (default ${DEFAULT_LOAD_OPTIONS.connections})
  -p, --pipeline N       requests in flight per connection; with --rate, the cap on them (default 1)
  -R, --rate N           open model: N messages per second over all connections, latency timed
                         from each message's intended send time (coordinated omission corrected)
  -d, --duration T       measured time: 10, 10s, 500ms, 1m (default ${DEFAULT_LOAD_OPTIONS.durationSeconds}s)
  --warmup T             unmeasured time before it (default ${DEFAULT_LOAD_OPTIONS.warmupSeconds}s)
  --idle T               hold the connections open and silent this long first (default 0)
  --size BYTES           payload per request: 64, 64k, 1m (default ${DEFAULT_LOAD_OPTIONS.size})
  --work-iterations N    sha256 rounds per WORK request (default ${DEFAULT_LOAD_OPTIONS.workIterations})
  --room-size N          chat: members per room (default ${DEFAULT_LOAD_OPTIONS.roomSize}); chat's --rate defaults to 1000
  -t, --threads N        worker threads the connections are spread over (default ${DEFAULT_LOAD_OPTIONS.threads}; 0 = main thread)
  --window N             fanout: messages not yet delivered to every member, at most (default ${DEFAULT_LOAD_OPTIONS.window})
                         fanout with several targets: members dealt round-robin over them, the
                         publisher on the first, so deliveries to the others cross the hub
  --redis                fanout against Redis pub/sub: SUBSCRIBE/PUBLISH instead of JOIN/SAY
  --mirror               expect replies identical to requests (the bare socket.pipe reference server)
  --file NAME            get: the file each connection downloads in a loop (binary GET, one at a
                         time); its size comes from the server's LIST and every download is checked
                         against it; MiB/s is file bytes received, latency request to last frame
  --sha256 HEX           get: also hash every download and compare (costs the load generator CPU)
  --connect-timeout T    give up on a connection after this long (default ${DEFAULT_LOAD_OPTIONS.connectTimeoutSeconds}s)

UDP
  --udp                  echo, ping or work over datagrams to TARGET (the server's udpAddress,
                         HOST:PORT or udp://HOST:PORT); -c sockets, each -p requests in flight
  --timeout T            --udp: a request without a reply this long is lost (default 1s)
  --discover             list the servers that answer a broadcast PING, with their INFO:
                         echoplex-load --discover [--broadcast 127.255.255.255] [--port 7000] [--wait 500ms]

Output
  -j, --json             print one JSON object (the LoadResult) on stdout
  --quiet                no progress on stderr
  --assert EXPR          e.g. "p99<5ms", "errors==0", "messagesPerSecond>=1000"; repeatable;
                         exit code 1 when one fails
  -h, --help             this text

Exit codes: 0 ok, 1 an assertion failed, 2 bad flags, 3 the run could not be done: no connection
could be opened, or the target vanished (every connection lost) during the run.`;

/** `10`, `10s`, `500ms`, `2m` in seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new FlagError(`--${flag} takes a duration like 10, 10s, 500ms or 1m, got '${text}'`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : value;
}

/** `64`, `64k`, `1m` in bytes (k = 1024). */
export function parseSize(text: string, flag: string): number {
  const match = /^([0-9]+)([kKmM])?$/.exec(text.trim());
  if (!match) throw new FlagError(`--${flag} takes a size like 64, 64k or 1m, got '${text}'`);
  const scale = match[2] === undefined ? 1 : match[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024;
  return Number(match[1]) * scale;
}

/** A whole number; a negative one is read too, so the range check names the flag's range. */
function parseCount(text: string, flag: string): number {
  if (!/^-?[0-9]+$/.test(text.trim())) throw new FlagError(`--${flag} takes a whole number, got '${text}'`);
  return Number(text);
}

function parseRate(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text.trim()) || !(value > 0))
    throw new FlagError(`--rate takes a positive number per second, got '${text}'`);
  return value;
}

const isScenario = (name: string): name is ScenarioName => (SCENARIOS as readonly string[]).includes(name);

/** Reads argv (without node and the script); `undefined` means `--help` was asked for. */
export function parseLoadFlags(argv: readonly string[]): LoadCommand | undefined {
  let parsed: ReturnType<typeof parseFlagsStrictly>;
  try {
    parsed = parseFlagsStrictly(argv);
  } catch (error) {
    throw new FlagError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length > 0 && values.target !== undefined)
    throw new FlagError('give the targets one way: as --target or as the last arguments');
  const given = values.target ?? positionals;
  const scenario = values.scenario ?? DEFAULT_LOAD_OPTIONS.scenario;
  if (!isScenario(scenario)) throw new FlagError(`--scenario must be one of ${SCENARIOS.join(', ')}, got '${scenario}'`);
  if (given.length > 1 && scenario !== 'fanout')
    throw new FlagError(
      `one target at most (several are for --scenario fanout across servers), got ${given.map((p) => `'${p}'`).join(' ')}`,
    );
  const targets = given.map((text) => {
    const targetText = values.udp === true && text.startsWith('udp://') ? text.slice('udp://'.length) : text;
    try {
      return parseTarget(targetText);
    } catch (error) {
      if (error instanceof TargetError) throw new FlagError(`--target: ${error.message}`);
      throw error;
    }
  });
  const [target, ...extraTargets] = targets;
  if (target === undefined) throw new FlagError('a target is required: echoplex-load tcp://127.0.0.1:7000 (or unix:/path/to/socket)');
  const options = withDefaults({
    target,
    extraTargets,
    scenario,
    ...(values.connections !== undefined && { connections: parseCount(values.connections, 'connections') }),
    ...(values.duration !== undefined && { durationSeconds: parseDuration(values.duration, 'duration') }),
    ...(values.warmup !== undefined && { warmupSeconds: parseDuration(values.warmup, 'warmup') }),
    ...(values.idle !== undefined && { idleSeconds: parseDuration(values.idle, 'idle') }),
    ...(values.size !== undefined && { size: parseSize(values.size, 'size') }),
    ...(values.pipeline !== undefined && { pipeline: parseCount(values.pipeline, 'pipeline') }),
    ...(values.rate !== undefined && { rate: parseRate(values.rate) }),
    ...(values.threads !== undefined && { threads: parseCount(values.threads, 'threads') }),
    ...(values['work-iterations'] !== undefined && { workIterations: parseCount(values['work-iterations'], 'work-iterations') }),
    ...(values['room-size'] !== undefined && { roomSize: parseCount(values['room-size'], 'room-size') }),
    ...(values['connect-timeout'] !== undefined && { connectTimeoutSeconds: parseDuration(values['connect-timeout'], 'connect-timeout') }),
    ...(values.window !== undefined && { window: parseCount(values.window, 'window') }),
    ...(values.file !== undefined && { file: values.file }),
    ...(values.sha256 !== undefined && { sha256: values.sha256.toLowerCase() }),
    redis: values.redis ?? false,
    mirror: values.mirror ?? false,
  });
  const invalid = validateLoadOptions(options);
  if (invalid !== undefined) throw new FlagError(invalid);
  const assertions = (values.assert ?? []).map((text) => {
    const assertion = parseAssertion(text);
    if (typeof assertion === 'string') throw new FlagError(`--assert: ${assertion}`);
    return assertion;
  });
  if (values.timeout !== undefined && values.udp !== true) throw new FlagError('--timeout is for --udp runs');
  const command = { options, json: values.json ?? false, quiet: values.quiet ?? false, assertions };
  if (values.udp !== true) return command;
  const udpTimeoutSeconds = values.timeout === undefined ? DEFAULT_UDP_TIMEOUT_SECONDS : parseDuration(values.timeout, 'timeout');
  const udpInvalid = validateUdpOptions(options, udpTimeoutSeconds);
  if (udpInvalid !== undefined) throw new FlagError(udpInvalid);
  return { ...command, udpTimeoutSeconds };
}

/**
 * `-c -1` as `--connections=-1`: a negative value reaches the range check, which names the
 * range, instead of node's parser, which takes `-1` for a flag and calls the value ambiguous.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const longName = (arg: string): string | undefined => {
    if (arg.startsWith('--')) return arg.slice(2);
    return Object.entries(FLAG_OPTIONS).find(([, option]) => 'short' in option && `-${option.short}` === arg)?.[0];
  };
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = longName(arg);
    const option = name === undefined ? undefined : FLAG_OPTIONS[name as keyof typeof FLAG_OPTIONS];
    if (option?.type === 'string' && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`--${name}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function parseFlagsStrictly(argv: readonly string[]) {
  return parseArgs({ args: joinNegativeValues(argv), strict: true, allowPositionals: true, options: FLAG_OPTIONS });
}

const FLAG_OPTIONS = {
  target: { type: 'string', multiple: true },
  scenario: { type: 'string' },
  connections: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  warmup: { type: 'string' },
  idle: { type: 'string' },
  size: { type: 'string' },
  pipeline: { type: 'string', short: 'p' },
  rate: { type: 'string', short: 'R' },
  threads: { type: 'string', short: 't' },
  'work-iterations': { type: 'string' },
  'room-size': { type: 'string' },
  'connect-timeout': { type: 'string' },
  window: { type: 'string' },
  redis: { type: 'boolean' },
  file: { type: 'string' },
  sha256: { type: 'string' },
  udp: { type: 'boolean' },
  timeout: { type: 'string' },
  mirror: { type: 'boolean' },
  json: { type: 'boolean', short: 'j' },
  quiet: { type: 'boolean' },
  assert: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];
