/**
 * Text lines: LF-terminated, an optional CR dropped, UTF-8, at most `max-line` bytes.
 * Incremental like the frame decoder, so any cutting of the stream gives the same lines.
 */
import { isUtf8 } from 'node:buffer';
import { ProtocolError } from './errors.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Pull-based line decoder. `next` returns each complete line without its terminator
 * (empty lines included: the caller ignores them), `undefined` when more bytes are
 * needed, or a final `ProtocolError`.
 */
export class LineDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Where the search for LF resumes, so a long partial line is scanned once. */
  private scanned = 0;
  private failure: ProtocolError | undefined;
  /** Raw bytes still owed after a line (a text PUT's or GET's file), not lines. */
  private raw = 0;
  /** The raw bytes are all taken: one LF right after them is skipped. */
  private skipLf = false;

  constructor(private readonly maxLine: number) {
    if (!Number.isInteger(maxLine) || maxLine < 1) throw new RangeError(`max line must be a positive integer, got ${maxLine}`);
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.offset === this.buffer.length) {
      this.buffer = bytes;
      this.scanned = 0;
    } else {
      this.scanned -= this.offset;
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), bytes]);
    }
    this.offset = 0;
  }

  get buffered(): number {
    return this.buffer.length - this.offset;
  }

  /**
   * The next `count` bytes are raw (a file after `PUT name size` or `FILE name size`), taken
   * with `nextRaw`; one LF right after them is skipped. Lines resume after them.
   */
  beginRaw(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`raw byte count must be a non-negative integer, got ${count}`);
    if (this.raw > 0) throw new Error('beginRaw while raw bytes are still owed');
    this.raw = count;
    this.skipLf = count === 0;
  }

  /** Raw bytes still owed since `beginRaw`. */
  get rawRemaining(): number {
    return this.raw;
  }

  /** Up to the raw bytes still owed that have arrived (a view into the input), or `undefined` when none have. */
  nextRaw(): Buffer | undefined {
    if (this.raw === 0 || this.failure !== undefined) return undefined;
    const available = this.buffer.length - this.offset;
    if (available === 0) return undefined;
    const count = Math.min(available, this.raw);
    const bytes = this.buffer.subarray(this.offset, this.offset + count);
    this.offset += count;
    this.scanned = this.offset;
    this.raw -= count;
    if (this.raw === 0) this.skipLf = true;
    return bytes;
  }

  /** The next line's bytes (a view into the input), valid UTF-8; `undefined` while raw bytes are owed. */
  next(): Buffer | ProtocolError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.raw > 0) return undefined;
    if (this.skipLf) {
      if (this.offset === this.buffer.length) return undefined;
      this.skipLf = false;
      if (this.buffer[this.offset] === LF) {
        this.offset += 1;
        this.scanned = Math.max(this.scanned, this.offset);
      }
    }
    const start = this.offset;
    const lf = this.buffer.indexOf(LF, Math.max(start, this.scanned));
    if (lf === -1) {
      this.scanned = this.buffer.length;
      // A CR may still be dropped when the LF arrives, so allow one byte for it.
      if (this.buffer.length - start > this.maxLine + 1) return this.fail(this.tooLong());
      return undefined;
    }
    let end = lf;
    if (end > start && this.buffer[end - 1] === CR) end -= 1;
    if (end - start > this.maxLine) return this.fail(this.tooLong());
    this.offset = lf + 1;
    this.scanned = this.offset;
    const line = this.buffer.subarray(start, end);
    if (!isUtf8(line)) return this.fail(new ProtocolError('BAD_FRAME', 'line is not valid UTF-8'));
    return line;
  }

  private tooLong(): ProtocolError {
    return new ProtocolError('TOO_LARGE', `line over the limit of ${this.maxLine} bytes`);
  }

  private fail(error: ProtocolError): ProtocolError {
    this.failure = error;
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.scanned = 0;
    return error;
  }
}

/** One text line: `words` and an LF. */
export const encodeLine = (text: string): Buffer => Buffer.from(`${text}\n`, 'utf8');
