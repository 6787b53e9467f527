/**
 * Command-line flags shared by every model, plus each model's own: parsed once, with
 * sizes like `64k`, seconds like `0.5`, and a clear error for anything else.
 */
import { parseArgs } from 'node:util';
import { MAX_FRAME_LIMIT } from '@echoplex/protocol';
import { DEFAULT_MAX_FILE } from './file-store.js';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** A Unix socket path, used instead of host and port. */
  readonly socketPath: string | undefined;
  readonly backlog: number;
  readonly maxFrame: number;
  readonly maxLine: number;
  readonly maxConnections: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly maxOutbound: number;
  readonly logLevel: LogLevel;
  /** `redis://HOST:PORT[/DB]`: the Redis whose rooms and nicks this server shares with others; undefined: this server alone. */
  readonly hub: string | undefined;
  /** `--udp PORT`: also answer datagrams there (0 picks a free port); undefined: no UDP. */
  readonly udpPort: number | undefined;
  /** `--udp-host`, else `--host`; `0.0.0.0` hears broadcasts. */
  readonly udpHost: string;
  /** `--files DIR` (an absolute real path once `readCommandLine` checked it): the file service's directory; undefined: no file service. */
  readonly filesDir: string | undefined;
  /** `--max-file`: the largest upload. */
  readonly maxFile: number;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Bad command-line input: the message says what and how to fix it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** One flag of a model: how to read its value, its default, and the line `--help` prints. */
export interface FlagSpec<T> {
  readonly description: string;
  readonly valueName: string;
  readonly defaultValue: T;
  readonly defaultText?: string;
  parse(raw: string, flag: string): T;
}

export type FlagValues<Flags extends Record<string, FlagSpec<unknown>>> = {
  readonly [K in keyof Flags]: Flags[K] extends FlagSpec<infer T> ? T : never;
};

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `65536`, `64k`, `1m` (k = 1024 bytes, m = 1024²). */
export function parseSize(raw: string, flag: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(raw.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? ''];
  if (match === null || unit === undefined) throw new ConfigError(`${flag}: expected a size like 65536, 64k or 1m, got '${raw}'`);
  return Number(match[1]) * unit;
}

export const integerFlag = (description: string, defaultValue: number, min: number, max: number): FlagSpec<number> => ({
  description,
  valueName: 'N',
  defaultValue,
  parse(raw, flag) {
    const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) throw new ConfigError(`${flag}: expected a whole number from ${min} to ${max}, got '${raw}'`);
    return value;
  },
});

export const choiceFlag = <T extends string>(description: string, defaultValue: T, choices: readonly T[]): FlagSpec<T> => ({
  description: `${description} (${choices.join(' | ')})`,
  valueName: 'NAME',
  defaultValue,
  parse(raw, flag) {
    if (!(choices as readonly string[]).includes(raw))
      throw new ConfigError(`${flag}: expected one of ${choices.join(', ')}, got '${raw}'`);
    return raw as T;
  },
});

/** `--max-waiting` of a model whose connections wait for a thread or a child (`forWhat`: "a thread"): how many wait before ERR BUSY. */
export const waitingFlag = (forWhat: string): FlagSpec<number> =>
  integerFlag(`connections waiting for ${forWhat} at most; beyond, ERR BUSY (each waits --idle-timeout at most)`, 64, 0, 100_000);

export const booleanFlag = (description: string): FlagSpec<boolean> => ({
  description,
  valueName: '',
  defaultValue: false,
  parse: () => true,
});

const secondsFlag = (description: string, defaultSeconds: number): FlagSpec<number> => ({
  description,
  valueName: 'SECONDS',
  defaultValue: defaultSeconds * 1000,
  defaultText: String(defaultSeconds),
  parse(raw, flag) {
    const seconds = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!(seconds >= 0 && seconds <= 86_400))
      throw new ConfigError(`${flag}: expected seconds from 0 to 86400 (fractions allowed), got '${raw}'`);
    return Math.round(seconds * 1000);
  },
});

const sizeFlag = (description: string, defaultValue: number, defaultText: string, min: number, max: number): FlagSpec<number> => ({
  description,
  valueName: 'SIZE',
  defaultValue,
  defaultText,
  parse(raw, flag) {
    const value = parseSize(raw, flag);
    if (value < min || value > max) throw new ConfigError(`${flag}: expected a size from ${min} to ${max} bytes, got '${raw}'`);
    return value;
  },
});

const stringFlag = (description: string, valueName: string, defaultValue: string): FlagSpec<string> => ({
  description,
  valueName,
  defaultValue,
  parse(raw, flag) {
    if (raw === '') throw new ConfigError(`${flag}: expected a value`);
    return raw;
  },
});

/** `redis://[user:password@]HOST:PORT[/DB]`, checked here so a typo is a usage error, not a failed connection. */
const hubFlag: FlagSpec<string> = {
  description: 'share rooms and nicks with every server on this Redis (redis://HOST:PORT[/DB])',
  valueName: 'URL',
  defaultValue: '',
  parse(raw, flag) {
    const expected = `${flag}: expected redis://HOST:PORT[/DB], got '${raw}'`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(expected);
    }
    if (url.protocol !== 'redis:' || url.hostname === '' || !/^(\/\d{0,5})?$/.test(url.pathname) || url.search !== '' || url.hash !== '') {
      throw new ConfigError(expected);
    }
    return raw;
  },
};

/** `--files DIR`, as given: the process that reads the flags checks it names a directory (`readCommandLine`), so parsing stays pure. */
const filesFlag: FlagSpec<string> = {
  description: 'serve LIST, GET, PUT and /files/ from the files directly in this directory',
  valueName: 'DIR',
  defaultValue: '',
  parse: (raw) => raw,
};

/** `--udp PORT`: off unless given, since a UDP port is one more thing listening. */
const udpFlag: FlagSpec<number | undefined> = {
  description: 'also answer UDP datagrams on this port (0 picks a free one)',
  valueName: 'PORT',
  defaultValue: undefined,
  defaultText: 'off',
  parse: (raw, flag) => integerFlag('', 0, 0, 65_535).parse(raw, flag),
};

const COMMON_FLAGS = {
  host: stringFlag('TCP address to listen on', 'HOST', '127.0.0.1'),
  port: integerFlag('TCP port to listen on (0 picks a free one)', 7000, 0, 65_535),
  socket: stringFlag('listen on this Unix socket path instead of host and port', 'PATH', ''),
  backlog: integerFlag('listen queue length', 511, 1, 65_535),
  'max-frame': sizeFlag('largest binary frame body, HTTP body', 1024 ** 2, '1m', 1, MAX_FRAME_LIMIT),
  'max-line': sizeFlag('longest text line, HTTP request head', 64 * 1024, '64k', 16, MAX_FRAME_LIMIT),
  'max-connections': integerFlag('connections served at once', 10_000, 1, 1_000_000),
  'idle-timeout': secondsFlag('close connections that send nothing, or leave a request unfinished, this long (0: never)', 60),
  'drain-timeout': secondsFlag('on SIGTERM, close whatever is left after this long', 5),
  'max-outbound': sizeFlag('pushed output waiting for one connection before SLOW_CONSUMER', 1024 ** 2, '1m', 1024, 2 ** 31),
  'log-level': choiceFlag('pino log level', 'info' as LogLevel, LOG_LEVELS),
  hub: hubFlag,
  udp: udpFlag,
  'udp-host': stringFlag('UDP address (default: --host; 0.0.0.0 hears broadcasts)', 'HOST', ''),
  files: filesFlag,
  'max-file': sizeFlag('largest file a PUT may upload', DEFAULT_MAX_FILE, '64m', 0, Number.MAX_SAFE_INTEGER),
} satisfies Record<string, FlagSpec<unknown>>;

export interface CliSpec<Flags extends Record<string, FlagSpec<unknown>>> {
  /** The model's name, as in `apps/<model>`. */
  readonly model: string;
  /** One line on what the model is. */
  readonly summary: string;
  readonly flags: Flags;
  /** A rule across the model's flags: the message of a usage error (exit 2), or undefined when they agree. */
  check?(flags: FlagValues<Flags>): string | undefined;
}

export type ParsedCommandLine<Flags extends Record<string, FlagSpec<unknown>>> =
  | { readonly help: string }
  | { readonly version: true }
  | { readonly server: ServerConfig; readonly model: FlagValues<Flags> };

function helpText(spec: CliSpec<Record<string, FlagSpec<unknown>>>): string {
  const row = (name: string, flag: FlagSpec<unknown>) => {
    const left = `  --${name}${flag.valueName === '' ? '' : ` ${flag.valueName}`}`;
    const shown = flag.defaultText ?? (flag.defaultValue === '' || flag.defaultValue === false ? undefined : String(flag.defaultValue));
    return `${left.padEnd(30)} ${flag.description}${shown === undefined ? '' : ` (default ${shown})`}`;
  };
  return [
    `Usage: echoplex-${spec.model} [flags]    (or: node apps/${spec.model}/dist/main.js [flags])`,
    '',
    spec.summary,
    '',
    'Server flags:',
    ...Object.entries(COMMON_FLAGS).map(([name, flag]) => row(name, flag)),
    ...(Object.keys(spec.flags).length === 0
      ? []
      : ['', `${spec.model} flags:`, ...Object.entries(spec.flags).map(([name, flag]) => row(name, flag))]),
    `  -h, --help${' '.repeat(20)} show this help`,
    `  --version${' '.repeat(21)} print the version and exit`,
    '',
    'Sizes take 65536, 64k or 1m (k = 1024 bytes). Logs are pino JSON on stdout.',
  ].join('\n');
}

/**
 * `--threads -1` as `--threads=-1`, so a negative value reaches the flag's own check, which
 * names the range, instead of node's parser, which takes `-1` for a flag and calls it ambiguous.
 */
export function joinNegativeValues(argv: readonly string[], options: Readonly<Record<string, { readonly type: string }>>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** Parses argv (without `node` and the script); throws `ConfigError` on bad input. */
export function parseCommandLine<Flags extends Record<string, FlagSpec<unknown>>>(
  argv: readonly string[],
  spec: CliSpec<Flags>,
): ParsedCommandLine<Flags> {
  const all: Record<string, FlagSpec<unknown>> = { ...COMMON_FLAGS, ...spec.flags };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const [name, flag] of Object.entries(all)) options[name] = { type: flag.valueName === '' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false }) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (values.help === true) return { help: helpText(spec) };
  if (values.version === true) return { version: true };
  const read = (name: string): unknown => {
    const flag = all[name] as FlagSpec<unknown>;
    const raw = values[name];
    if (raw === undefined) return flag.defaultValue;
    return flag.parse(typeof raw === 'string' ? raw : '', `--${name}`);
  };
  const maxFrame = read('max-frame') as number;
  const socket = read('socket') as string;
  if (socket !== '' && (values.host !== undefined || values.port !== undefined)) {
    throw new ConfigError('--socket is used instead of --host and --port: give one or the other');
  }
  const udpPort = read('udp') as number | undefined;
  const udpHost = read('udp-host') as string;
  if (udpHost !== '' && udpPort === undefined) throw new ConfigError('--udp-host needs --udp PORT');
  const server: ServerConfig = {
    host: read('host') as string,
    port: read('port') as number,
    socketPath: socket === '' ? undefined : socket,
    backlog: read('backlog') as number,
    maxFrame,
    maxLine: read('max-line') as number,
    maxConnections: read('max-connections') as number,
    idleTimeoutMs: read('idle-timeout') as number,
    drainTimeoutMs: read('drain-timeout') as number,
    maxOutbound: read('max-outbound') as number,
    logLevel: read('log-level') as LogLevel,
    hub: (read('hub') as string) || undefined,
    udpPort,
    udpHost: udpHost === '' ? (read('host') as string) : udpHost,
    filesDir: (read('files') as string) || undefined,
    maxFile: read('max-file') as number,
  };
  const model: Record<string, unknown> = {};
  for (const name of Object.keys(spec.flags)) model[name] = read(name);
  const problem = spec.check?.(model as FlagValues<Flags>);
  if (problem !== undefined) throw new ConfigError(problem);
  return { server, model: model as FlagValues<Flags> };
}
