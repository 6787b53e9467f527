/**
 * One worker thread of the pool: the sessions of the connections assigned to it, fed
 * with bytes the main thread read from their sockets. Everything a session does,
 * WORK included, runs here, so a busy worker holds up only its own connections.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  emptyKeepingCapacity,
  HUB_BATCH_BYTES,
  type HubCall,
  type HubEvent,
  hubCallBytes,
  hubEventBytes,
  isViewMessage,
  RemoteHub,
  RemoteView,
  ServerStats,
  Session,
  type SessionTransport,
} from '@echoplex/core';
import { IdleTimer, loopFileStore, OUTPUT_HIGH_WATER } from '@echoplex/core/node';
import { FAULT_TRIGGERS, type FromWorker, type FromWorkerPart, type ToWorker, type WorkerSetup } from './messages.js';
import { Op, RecordBatch, readRecords } from './records.js';

if (parentPort === null) throw new Error('worker.js runs as a worker thread of main.js');
const port = parentPort;
const setup = workerData as WorkerSetup;
const stats = new ServerStats();
const servedBy = `worker ${setup.index}`;

const outgoing = new RecordBatch();
/** The run of hub calls being gathered: calls made one after another are applied together (a publisher's SAYs of one read). */
let hubCalls: HubCall[] = [];
let hubCallsBytes = 0;
/** This turn's records and runs of hub calls so far, in order; the ones being gathered now are in `outgoing` and `hubCalls`. */
const parts: FromWorkerPart[] = [];
const transfer: ArrayBuffer[] = [];
let flushScheduled = false;

/** The records gathered since the last hub call, packed into one transferable buffer. */
function closeRecords(): void {
  if (outgoing.isEmpty) return;
  const packed = outgoing.take();
  parts.push(packed);
  transfer.push(packed);
}

function closeHubCalls(): void {
  hubCallsBytes = 0;
  if (hubCalls.length === 0) return;
  parts.push(hubCalls);
  hubCalls = [];
}

/** The end of a turn: its records and hub calls cross in one postMessage (cloned at once, so the lists are reused). */
function flushTurn(): void {
  flushScheduled = false;
  closeRecords();
  closeHubCalls();
  if (parts.length === 0) return;
  port.postMessage({ kind: 'turn', parts } satisfies FromWorker, transfer);
  emptyKeepingCapacity(parts);
  emptyKeepingCapacity(transfer);
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushTurn);
}

function addRecord(op: Op, id: number, value?: number): void {
  closeHubCalls();
  outgoing.add(op, id, value);
}

function addDataRecord(id: number, bytes: Buffer): void {
  closeHubCalls();
  outgoing.addData(id, bytes);
}

/** Any other message goes after this turn's records and calls, so the main thread sees one order of events. */
function post(message: FromWorker): void {
  flushTurn();
  port.postMessage(message);
}

const hub = new RemoteHub((call) => {
  closeRecords();
  hubCalls.push(call);
  hubCallsBytes += hubCallBytes(call);
  // No more than HUB_BATCH_BYTES of calls in one message: it goes now, and the turn goes on in the next.
  if (hubCallsBytes >= HUB_BATCH_BYTES) flushTurn();
  else scheduleFlush();
});

/** INFO and /metrics are the whole server's: the main thread answers them. */
const view = new RemoteView(post, () => stats.snapshot());

/**
 * A session whose socket is on the main thread. Its outbound bytes are those sent and
 * not yet reported WRITTEN, in transit included, so `--max-outbound` sees them all.
 */
class RelayedConnection implements SessionTransport {
  readonly session: Session;
  private outbound = 0;
  /** Reading stopped because the client does not take our output. */
  private paused = false;
  private readonly idle = new IdleTimer(() => this.session.timeout());
  /** Reading stopped because the session asked (an upload waiting for the disk). */
  private inputHeld = false;
  /** A GET waiting for the client to take its output. */
  private writable: (() => void) | undefined;

  constructor(
    readonly id: number,
    busy: boolean,
  ) {
    this.session = new Session({ id, busy, limits: setup.limits, hub, server: view, stats, servedBy, transport: this, files });
  }

  receive(bytes: Buffer): void {
    if (setup.injectFaults) injectFault(bytes);
    this.session.receive(bytes);
    addRecord(Op.CONSUMED, this.id, bytes.length);
    scheduleFlush();
  }

  written(bytes: number): void {
    this.outbound -= bytes;
    const writable = this.writable;
    if (writable !== undefined && this.outbound <= OUTPUT_HIGH_WATER) {
      this.writable = undefined;
      writable();
    }
    if (this.paused && this.outbound === 0) {
      this.paused = false;
      if (this.inputHeld) return;
      addRecord(Op.RESUME, this.id);
      scheduleFlush();
      this.idle.release();
    }
  }

  write(bytes: Buffer): void {
    this.outbound += bytes.length;
    addDataRecord(this.id, bytes);
    if (!this.paused && this.outbound > OUTPUT_HIGH_WATER) {
      this.paused = true;
      if (!this.inputHeld) {
        addRecord(Op.PAUSE, this.id);
        this.idle.hold();
      }
    }
    scheduleFlush();
  }

  outboundBytes(): number {
    return this.outbound;
  }

  close(): void {
    this.idle.clear();
    addRecord(Op.CLOSE, this.id);
    scheduleFlush();
  }

  setTimer(ms: number | undefined): void {
    this.idle.set(ms);
  }

  /** An upload waiting for the disk: the main thread stops reading the socket (PAUSE), as for a client behind. */
  holdInput(held: boolean): void {
    if (this.inputHeld === held) return;
    this.inputHeld = held;
    if (this.paused) return;
    addRecord(held ? Op.PAUSE : Op.RESUME, this.id);
    scheduleFlush();
    if (held) this.idle.hold();
    else this.idle.release();
  }

  /** A GET's next piece waits until the main thread reports enough of the last ones WRITTEN. */
  whenWritable(ready: () => void): void {
    if (this.outbound <= OUTPUT_HIGH_WATER) ready();
    else this.writable = ready;
  }

  /** The socket is gone: the main thread will send nothing more for this connection. */
  abort(): void {
    this.idle.clear();
    this.session.abort();
  }
}

/** `--inject-faults` only: a worker that dies on demand, to show that only its own connections close. */
function injectFault(bytes: Buffer): void {
  if (bytes.includes(FAULT_TRIGGERS.crash)) throw new Error('fault injection: crash-worker');
  if (bytes.includes(FAULT_TRIGGERS.exit)) process.exit(70);
}

/** --files: this worker's own reads and writes of DIR, on its loop. */
const files = loopFileStore(setup.limits);

const connections = new Map<number, RelayedConnection>();

function onRecord(op: Op, id: number, value: number, payload: Buffer | undefined): void {
  switch (op) {
    case Op.OPEN:
      connections.set(id, new RelayedConnection(id, value === 1));
      return;
    case Op.DATA:
      if (payload !== undefined) connections.get(id)?.receive(payload);
      return;
    case Op.END:
      connections.get(id)?.session.end();
      return;
    case Op.WRITTEN:
      connections.get(id)?.written(value);
      return;
    case Op.ABORT: {
      const connection = connections.get(id);
      connections.delete(id);
      connection?.abort();
      return;
    }
  }
}

function receiveHubEvent(event: HubEvent): void {
  hub.receive(event);
  // After the output they made: the main thread counts the pushes it sent us until it has read that output.
  const bytes = hubEventBytes(event);
  if (bytes > 0) {
    queueMicrotask(() => {
      addRecord(Op.TAKEN, 0, bytes);
      scheduleFlush();
    });
  }
}

port.on('message', (message: ToWorker) => {
  if (isViewMessage(message)) return view.receive(message);
  switch (message.kind) {
    case 'turn':
      for (const part of message.parts) {
        if (part instanceof ArrayBuffer) readRecords(part, onRecord);
        else receiveHubEvent(part);
      }
      return;
    case 'shutdown':
      for (const connection of connections.values()) connection.session.shutdown();
      return;
  }
});

post({ kind: 'ready' });
