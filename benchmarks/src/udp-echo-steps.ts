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
  // Open model, 1024 in flight at most: more than one loop answers here, so the kernel drops and loss shows.
  { label: 'udp 100k/s', transport: 'udp', args: { ...CLOSED, pipeline: 64, rate: 100_000, timeout: '0.5s' } },
];
