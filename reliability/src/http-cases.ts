/**
 * HTTP requests RFC 9112 says to refuse, and the request-smuggling family: each must get
 * 400 and a closed connection, while a fresh client is still answered within 1 s and the
 * server's memory stays under a bound (the negative chunk size once grew it past 2.9 GB).
 */
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { freshPing, isAnswered, RawConnection, sleep } from './wire.js';

export interface HttpCase {
  readonly name: string;
  readonly request: string;
}

const head = (lines: readonly string[], body = ''): string => `${lines.join('\r\n')}\r\n\r\n${body}`;

export const HTTP_CASES: readonly HttpCase[] = [
  {
    name: 'negative chunk size',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked'], '-5\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'header line without a colon', request: head(['GET /ping HTTP/1.1', 'Host: x', 'NoColonHere']) },
  { name: 'space before the colon', request: head(['GET /ping HTTP/1.1', 'Host: x', 'Content-Length : 0']) },
  { name: 'HTTP/1.1 without Host', request: head(['GET /ping HTTP/1.1']) },
  {
    name: 'chunk size zz',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'chunk size 5zz',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked'], '5zz\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'Content-Length and Transfer-Encoding',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'two Content-Lengths', request: head(['POST /echo HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Content-Length: 6'], 'hello!') },
  {
    name: 'Transfer-Encoding: chunked, identity',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, identity'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'obs-fold',
    request: head(['POST /echo HTTP/1.1', 'Host: x', 'X-Folded: a', ' b', 'Content-Length: 5'], 'hello'),
  },
];

export interface HttpCaseOutcome {
  readonly name: string;
  /** The status line received, or what came instead. */
  readonly status: string;
  readonly closed: boolean;
  readonly freshMs: number;
  readonly freshAnswer: string;
}

/** How long a case has to be answered and closed. */
const ANSWER_WITHIN_MS = 2_000;

export async function checkHttpCases(
  server: RunningServer,
  freshWithinMs = 1_000,
): Promise<{ result: CheckResult; outcomes: HttpCaseOutcome[] }> {
  const rss = new RssSampler(server.pid, 100);
  const outcomes: HttpCaseOutcome[] = [];
  try {
    for (const testCase of HTTP_CASES) {
      const connection = await RawConnection.open(server.target);
      await connection.write(testCase.request);
      await connection.closed(ANSWER_WITHIN_MS);
      // The attack kept the server busy after the request: give it a moment, then ask a fresh client.
      await sleep(100);
      const fresh = await freshPing(server.target, freshWithinMs);
      const firstLine = connection.received.toString('latin1').split('\r\n')[0] ?? '';
      outcomes.push({
        name: testCase.name,
        status: firstLine === '' ? '(nothing)' : firstLine.slice(0, 40),
        closed: connection.isClosed,
        freshMs: fresh.ms,
        freshAnswer: fresh.answer,
      });
      connection.destroy();
    }
  } finally {
    rss.stop();
  }
  const refused = outcomes.filter((outcome) => /^HTTP\/1\.[01] 400 /.test(outcome.status) && outcome.closed);
  const freshMaxMs = Math.max(...outcomes.map((outcome) => outcome.freshMs));
  const freshOk = outcomes.every((outcome) => isAnswered({ answer: outcome.freshAnswer, ms: outcome.freshMs }, freshWithinMs));
  const peakMiB = rss.peakMiB;
  const pass = refused.length === HTTP_CASES.length && freshOk && peakMiB < 200 && server.isAlive();
  const failed = outcomes
    .filter((outcome) => !refused.includes(outcome))
    .map((outcome) => `${outcome.name}: ${outcome.status}${outcome.closed ? '' : ', open'}`);
  return {
    outcomes,
    result: {
      pass,
      cell: `${refused.length}/${HTTP_CASES.length} 400+close; fresh ≤ ${Math.round(freshMaxMs)} ms; ${Math.round(peakMiB)} MiB`,
      details: {
        refused: refused.length,
        cases: HTTP_CASES.length,
        freshMaxMs: round(freshMaxMs),
        freshOk,
        peakRssMiB: round(peakMiB),
        failed: failed.join('; '),
        alive: server.isAlive(),
      },
    },
  };
}
