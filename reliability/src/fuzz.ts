/**
 * Fuzzing per dialect: seeded random inputs, each on its own connection, a few at once.
 * Whatever they hold, the server must stay up, keep answering a fresh client within 1 s,
 * and keep its memory bounded. The seed and the count make a failing run repeatable.
 */
import { type RunningServer, seededRandom } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { freshPing, isAnswered, RawConnection } from './wire.js';

export type FuzzDialect = 'binary' | 'text' | 'http';
export const FUZZ_DIALECTS: readonly FuzzDialect[] = ['binary', 'text', 'http'];

class Draw {
  constructor(private readonly random: () => number) {}
  int(below: number): number {
    return Math.floor(this.random() * below);
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)] as T;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
  /** Short text, sometimes with bytes a careful server must refuse (CR, NUL, invalid UTF-8). */
  text(max: number): Buffer {
    if (this.chance(0.2)) return this.bytes(this.int(max));
    const alphabet = 'abcXYZ019_- ./\\%{}"\t';
    return Buffer.from(Array.from({ length: this.int(max) }, () => this.pick([...alphabet])).join(''), 'utf8');
  }
}

const COMMANDS = ['ECHO', 'PING', 'NICK', 'JOIN', 'LEAVE', 'SAY', 'WHO', 'WORK', 'INFO', 'HELP', 'LIST', 'GET', 'PUT', 'QUIT', 'BOGUS', ''];

function binaryInput(draw: Draw): Buffer {
  const frames: Buffer[] = [];
  for (let n = 1 + draw.int(5); n > 0; n--) {
    const body = draw.chance(0.5) ? draw.text(64) : draw.bytes(draw.int(64));
    const type = draw.chance(0.7) ? 1 + draw.int(0x0d) : draw.int(256);
    // Mostly an honest length; sometimes a lie (0, short, long, or over --max-frame).
    const honest = body.length + 1;
    const length = draw.chance(0.7) ? honest : draw.pick([0, honest - 1, honest + 3, 0x00ff_ffff, draw.int(0x0100_0000)]);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(length >>> 0, 0);
    header[0] = 0;
    header[4] = type;
    if (type === 0x08 && body.length >= 4) body.writeUInt32BE(1 + draw.int(50), 0);
    frames.push(header, body);
  }
  return Buffer.concat(frames);
}

function textInput(draw: Draw): Buffer {
  const lines: Buffer[] = [];
  for (let n = 1 + draw.int(6); n > 0; n--) {
    let command = draw.pick(COMMANDS);
    if (draw.chance(0.3)) command = command.toLowerCase();
    // WORK gets a small count: the point is malformed input, not CPU.
    const argument =
      command.toUpperCase() === 'WORK' ? Buffer.from(`${draw.pick(['0', '-1', '5', 'x', '99999999999'])} `) : Buffer.alloc(0);
    const end = draw.pick(['\n', '\r\n', '', '\r', '\0\n']);
    lines.push(Buffer.from(`${command} `), argument, draw.text(draw.chance(0.05) ? 70_000 : 80), Buffer.from(end));
  }
  // Never start with a byte that picks another dialect.
  const input = Buffer.concat(lines);
  if (input[0] === 0) input[0] = 0x20;
  return input;
}

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'];
const PATHS = [
  '/echo',
  '/ping',
  '/work?n=3',
  '/work?n=x',
  '/rooms/r1/messages',
  '/rooms/r1',
  '/info',
  '/metrics',
  '/files/',
  '/nope',
  '*',
  '',
];
const HEADERS = [
  'Host: x',
  'Content-Length: 5',
  'Content-Length: -1',
  'Content-Length: 99999999999',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip',
  'Connection: close',
  'Connection: keep-alive',
  'Expect: 100-continue',
  'X-Nick: a b',
  ' folded',
  'NoColon',
  'Bad Name: x',
];

function httpInput(draw: Draw): Buffer {
  const lines = [`${draw.pick(METHODS)} ${draw.pick(PATHS)} ${draw.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/1.1 extra', ''])}`];
  for (let n = draw.int(6); n > 0; n--) lines.push(draw.chance(0.8) ? draw.pick(HEADERS) : draw.text(40).toString('latin1'));
  const chunked = lines.some((line) => line.startsWith('Transfer-Encoding: chunked'));
  const body = chunked
    ? `${draw.pick(['5', '-5', 'zz', 'ffffffffffff', '5;ext=1', ''])}\r\nhello\r\n0\r\n\r\n`
    : draw.text(16).toString('latin1');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n${draw.chance(0.9) ? '\r\n' : ''}`, 'latin1'), Buffer.from(body, 'latin1')]);
}

const GENERATORS: Record<FuzzDialect, (draw: Draw) => Buffer> = { binary: binaryInput, text: textInput, http: httpInput };

/** The inputs a seed and a count name, for one dialect. */
export function fuzzInputs(dialect: FuzzDialect, seed: number, count: number): Buffer[] {
  const draw = new Draw(seededRandom(seed * 31 + FUZZ_DIALECTS.indexOf(dialect)));
  return Array.from({ length: count }, () => GENERATORS[dialect](draw));
}

export interface FuzzOptions {
  readonly seed: number;
  readonly count: number;
  readonly concurrency: number;
  readonly freshWithinMs: number;
  readonly rssBoundMiB: number;
}

/** Each input: connect, send it, half-close, and wait (bounded) for the server to close. */
export async function checkFuzz(server: RunningServer, dialect: FuzzDialect, options: FuzzOptions): Promise<CheckResult> {
  const inputs = fuzzInputs(dialect, options.seed, options.count);
  const rss = new RssSampler(server.pid, 250);
  let next = 0;
  let lingered = 0;
  let connectFailures = 0;
  const startedAt = performance.now();
  const runOne = async (): Promise<void> => {
    for (let index = next++; index < inputs.length; index = next++) {
      let connection: RawConnection;
      try {
        connection = await RawConnection.open(server.target, 3_000);
      } catch {
        connectFailures += 1;
        continue;
      }
      await connection.write(inputs[index] as Buffer);
      connection.end();
      if (!(await connection.closed(3_000))) lingered += 1;
      connection.destroy();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, runOne));
  } finally {
    rss.stop();
  }
  const seconds = (performance.now() - startedAt) / 1_000;
  const fresh = await freshPing(server.target, options.freshWithinMs);
  const pass = server.isAlive() && isAnswered(fresh, options.freshWithinMs) && connectFailures === 0 && rss.peakMiB < options.rssBoundMiB;
  return {
    pass,
    cell: `${options.count} inputs, ${server.isAlive() ? 'up' : 'DOWN'}; fresh ${fresh.answer} ${Math.round(fresh.ms)} ms; ${Math.round(rss.peakMiB)} MiB`,
    details: {
      dialect,
      seed: options.seed,
      count: options.count,
      seconds: round(seconds),
      alive: server.isAlive(),
      connectFailures,
      notClosedWithin3s: lingered,
      fresh: fresh.answer,
      freshMs: round(fresh.ms),
      peakRssMiB: round(rss.peakMiB),
    },
  };
}
