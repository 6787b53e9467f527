/** The steps of the `udp-echo` bench: TCP echo, the same echo over UDP, and UDP offered more than a model answers. */
import type { LoadArgs } from './load-process.js';

export interface UdpEchoStep {
  readonly label: string;
  readonly transport: 'tcp' | 'udp';
  readonly args: LoadArgs;
}

/** 16 clients, 64 bytes, one request in flight each: the same load over a connection and over datagrams. */
const CLOSED: LoadArgs = { scenario: 'echo', connections: 16, size: 64 };

export const UDP_ECHO_STEPS: readonly UdpEchoStep[] = [
  { label: 'tcp c16', transport: 'tcp', args: CLOSED },
  { label: 'udp c16', transport: 'udp', args: { ...CLOSED, timeout: '1s' } },
  // Open model with room for every request of a timeout in flight (16 x 4096 > 100k/s x 0.5 s), so sends
  // leave on time: more than a model answers, and what the kernel or the model drops shows as loss.
  { label: 'udp 100k/s', transport: 'udp', args: { ...CLOSED, pipeline: 4096, rate: 100_000, timeout: '0.5s' } },
];
