/**
 * Byte records between the main thread and a worker: every connection event of one
 * event-loop turn is packed into one ArrayBuffer that is transferred, not cloned, so
 * a hundred 64-byte ECHOs cost one postMessage instead of a hundred.
 */

/** What a record says. Main -> worker: OPEN..WRITTEN; worker -> main: DATA, CLOSE, CONSUMED, PAUSE, RESUME, TAKEN. */
export const Op = {
  /** A connection was accepted; `value` is 1 when it is over `--max-connections` (busy). */
  OPEN: 1,
  /** Bytes of the connection: from the client (main -> worker) or to it (worker -> main). */
  DATA: 2,
  /** The client closed its side. */
  END: 3,
  /** The socket is gone (reset, error, destroyed): forget the connection. */
  ABORT: 4,
  /** `value` bytes of the worker's output reached the kernel: they no longer count as outbound. */
  WRITTEN: 5,
  /** The session closed: send what is queued, then end the socket. */
  CLOSE: 6,
  /** The worker's session took `value` bytes of input: they no longer count against the read window. */
  CONSUMED: 7,
  /** Stop reading the socket: the client is not reading its replies. */
  PAUSE: 8,
  /** Read the socket again. */
  RESUME: 9,
  /** The worker delivered hub pushes weighing `value` (hubEventBytes); id 0. Their output is in the records before it. */
  TAKEN: 10,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/**
 * op u8, connection id f64, value u32 (DATA: payload length, then the payload). The id is a
 * double: with `--hub`, the Nth server on a Redis numbers its connections from (N - 1) * 10^9 + 1,
 * past a u32 from the sixth server on (every integer below 2^53 is exact).
 */
const HEADER = 13;

/** Collects records until `take`, which packs them into one fresh, transferable buffer. */
export class RecordBatch {
  private readonly ops: Op[] = [];
  private readonly ids: number[] = [];
  private readonly values: number[] = [];
  private readonly payloads: (Buffer[] | undefined)[] = [];
  /** Per connection, the index of its DATA record while nothing else was added for it since: more bytes join that record. */
  private readonly openData = new Map<number, number>();
  private bytes = 0;

  get isEmpty(): boolean {
    return this.ops.length === 0;
  }

  add(op: Op, id: number, value = 0): void {
    this.openData.delete(id);
    this.ops.push(op);
    this.ids.push(id);
    this.values.push(value);
    this.payloads.push(undefined);
    this.bytes += HEADER;
  }

  /** Bytes for a connection; those that follow its last DATA record with nothing between join it, so a turn's output is one write. */
  addData(id: number, payload: Buffer): void {
    const open = this.openData.get(id);
    if (open !== undefined) {
      (this.payloads[open] as Buffer[]).push(payload);
      this.values[open] = (this.values[open] as number) + payload.length;
      this.bytes += payload.length;
      return;
    }
    this.openData.set(id, this.ops.length);
    this.ops.push(Op.DATA);
    this.ids.push(id);
    this.values.push(payload.length);
    this.payloads.push([payload]);
    this.bytes += HEADER + payload.length;
  }

  /** Packs and clears: the buffer is ours alone, so it can be transferred. */
  take(): ArrayBuffer {
    // allocUnsafeSlow: never a slice of Node's shared pool, which a transfer would detach.
    const packed = Buffer.allocUnsafeSlow(this.bytes);
    let at = 0;
    for (let i = 0; i < this.ops.length; i++) {
      packed[at] = this.ops[i] as Op;
      packed.writeDoubleBE(this.ids[i] as number, at + 1);
      packed.writeUInt32BE(this.values[i] as number, at + 9);
      at += HEADER;
      const parts = this.payloads[i];
      if (parts !== undefined) {
        for (const part of parts) {
          part.copy(packed, at);
          at += part.length;
        }
      }
    }
    this.openData.clear();
    this.ops.length = 0;
    this.ids.length = 0;
    this.values.length = 0;
    this.payloads.length = 0;
    this.bytes = 0;
    return packed.buffer as ArrayBuffer;
  }
}

/** Calls `each` for every record of a packed batch; DATA payloads are views into it. */
export function readRecords(packed: ArrayBuffer, each: (op: Op, id: number, value: number, payload: Buffer | undefined) => void): void {
  const bytes = Buffer.from(packed);
  let at = 0;
  while (at + HEADER <= bytes.length) {
    const op = bytes[at] as Op;
    const id = bytes.readDoubleBE(at + 1);
    const value = bytes.readUInt32BE(at + 9);
    at += HEADER;
    if (op === Op.DATA) {
      each(op, id, value, bytes.subarray(at, at + value));
      at += value;
    } else {
      each(op, id, value, undefined);
    }
  }
}
