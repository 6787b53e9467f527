/**
 * http-parser-js made strict where RFC 9112 says a server MUST refuse: it is lenient by
 * design (it accepts `-5` as a chunk size and then walks backwards forever), so the few
 * grammar rules that keep a request unambiguous are checked here, in front of it.
 */
import { createRequire } from 'node:module';

/** What the parser hands `onHeadersComplete` (its compat-0.12 form). */
export interface ParsedHead {
  versionMajor: number;
  versionMinor: number;
  /** Alternating raw names and values, as sent. */
  headers: string[];
  method: number;
  url: string;
  upgrade: boolean;
  shouldKeepAlive: boolean;
}

/** The part of http-parser-js's request parser that the decoder drives. */
export interface HttpParser {
  maxHeaderSize: number;
  state: string;
  /** The partial line buffered so far (request line, header, chunk size or trailer). */
  line: string;
  execute(chunk: Buffer): number | Error;
  [callback: number]: unknown;
}

interface ParserInternals extends HttpParser {
  state: string;
  body_bytes: number | null;
  trailers: string[];
  consumeLine(): string | undefined;
}

interface ParserClass {
  new (type: 'REQUEST'): ParserInternals;
  prototype: ParserInternals & { parseHeader(line: string, headers: string[]): void };
  REQUEST: 'REQUEST';
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  methods: string[];
}

let loaded: ParserClass | undefined;

/**
 * The library, loaded on first use rather than at import: it costs a new thread or child
 * ~30 ms to load, and a connection that never speaks HTTP never needs it.
 */
function parserClass(): ParserClass {
  loaded ??= (createRequire(import.meta.url)('http-parser-js') as { HTTPParser: ParserClass }).HTTPParser;
  return loaded;
}

/** A method's name from its index in `ParsedHead.method`. */
export function httpMethodName(index: number): string | undefined {
  return parserClass().methods[index];
}

/** The slots of a parser its callbacks go in. */
export function parserCallbacks(): { readonly headersComplete: number; readonly body: number; readonly messageComplete: number } {
  const HTTPParser = parserClass();
  return { headersComplete: HTTPParser.kOnHeadersComplete, body: HTTPParser.kOnBody, messageComplete: HTTPParser.kOnMessageComplete };
}

/** A request that breaks RFC 9112's grammar (`malformed`), or a size limit of its body or its fields. */
export class StrictnessError extends Error {
  constructor(
    message: string,
    readonly kind: 'malformed' | 'body too large' | 'fields too large' = 'malformed',
  ) {
    super(message);
  }
}

/** RFC 9110 §5.1: field-name = token; §5.5: field-value has no CTL but HTAB. OWS trimmed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the grammar is defined by which control characters it refuses.
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
/** RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional chunk extensions. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the grammar is defined by which control characters it refuses.
const CHUNK_HEAD = /^([0-9A-Fa-f]+)(?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?$/;

/**
 * The request parser with RFC 9112's MUSTs: a field line is `token ":" OWS value OWS`
 * (no colon, whitespace before the colon, obs-fold: refused), a chunk size is hex, and
 * chunk lines and trailers are bounded like the head (the library bounds only the head).
 */
export function createStrictParser(limits: { readonly maxHead: number; readonly maxBody: number }): HttpParser {
  const HTTPParser = parserClass();
  const parser = new HTTPParser(HTTPParser.REQUEST);
  parser.maxHeaderSize = limits.maxHead;
  let trailerBytes = 0;

  const parseHeader = (line: string, headers: string[]): void => {
    if (parser.state === 'BODY_CHUNKTRAILERS') {
      trailerBytes += line.length + 2;
      if (trailerBytes > limits.maxHead)
        throw new StrictnessError(`trailers over the limit of ${limits.maxHead} bytes`, 'fields too large');
    }
    if (line.startsWith(' ') || line.startsWith('\t')) throw new StrictnessError('obsolete line folding in a header');
    const match = FIELD_LINE.exec(line);
    if (match === null) {
      const colon = line.indexOf(':');
      if (colon === -1) throw new StrictnessError('a header line without a colon');
      if (/[ \t]$/.test(line.slice(0, colon))) throw new StrictnessError('whitespace between a header name and its colon');
      throw new StrictnessError('an invalid header name or value');
    }
    headers.push(match[1] as string, match[2] as string);
  };

  const chunkHead = (): void => {
    const line = parser.consumeLine();
    if (line === undefined) return;
    const match = CHUNK_HEAD.exec(line);
    if (match === null) throw new StrictnessError(`invalid chunk size: ${JSON.stringify(line.slice(0, 40))}`);
    const digits = (match[1] as string).replace(/^0+(?=.)/, '');
    const size = digits.length > 12 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, 16);
    if (size > limits.maxBody) throw new StrictnessError(`body over the limit of ${limits.maxBody} bytes`, 'body too large');
    parser.body_bytes = size;
    parser.state = size === 0 ? 'BODY_CHUNKTRAILERS' : 'BODY_CHUNK';
    if (size === 0) trailerBytes = 0;
  };

  Object.assign(parser, { parseHeader, BODY_CHUNKHEAD: chunkHead });
  return parser;
}
