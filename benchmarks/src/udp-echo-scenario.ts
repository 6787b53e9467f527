/**
 * The `udp-echo` scenario: per model, started with `--udp 0`, 64-byte ECHO over TCP beside the
 * same ECHO over UDP (closed model), then UDP offered more than a model answers (open model):
 * datagrams per second, latency and loss. No framing and no connection state on one side, and on
 * the other the loss that UDP hides until somebody counts.
 */
import type { LoadArgs } from './load-process.js';
import type { Scenario, ScenarioStep, ServerSet } from './scenario-registry.js';

/** The model with its flags and a datagram socket on a free port (the listening line's `udpAddress`). */
const WITH_UDP: ServerSet = { key: 'udp', launch: (model, args) => ({ entry: model, args: [...args, '--udp', '0'] }) };

/** 16 clients, 64 bytes, one request in flight each: the same load over a connection and over datagrams. */
const CLOSED: LoadArgs = { scenario: 'echo', connections: 16, size: 64 };
/** Offered to the flood step, per second. */
export const UDP_FLOOD_RATE = 100_000;

const step = (label: string, x: number, args: LoadArgs): ScenarioStep => ({ label, x, load: { kind: 'load', args }, servers: WITH_UDP });

export const UDP_ECHO_SCENARIO: Scenario = {
  name: 'udp-echo',
  shows:
    '64-byte ECHO over TCP (16 connections) beside the same over UDP (16 sockets, one datagram in flight each), then UDP offered ' +
    `${UDP_FLOOD_RATE / 1000}k/s: replies per second, latency and loss (a request unanswered within its timeout).`,
  xAxis: 'step',
  primary: 'messagesPerSecond',
  reference: false,
  quick: false,
  steps: () => [
    step('tcp c16', 1, CLOSED),
    step('udp c16', 2, { ...CLOSED, udp: true, timeout: '1s' }),
    // Open model with room for every request of a timeout in flight (16 x 4096 > 100k/s x 0.5 s), so sends
    // leave on time: more than a model answers, and what the kernel or the model drops shows as loss.
    step(`udp ${UDP_FLOOD_RATE / 1000}k/s`, 3, { ...CLOSED, udp: true, pipeline: 4096, rate: UDP_FLOOD_RATE, timeout: '0.5s' }),
  ],
};
