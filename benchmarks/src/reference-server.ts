#!/usr/bin/env node
/**
 * The floor every model is measured against: a bare `node:net` server that pipes each socket
 * back to itself. It speaks no protocol (the load generator runs with `--mirror` against it) but
 * starts, announces itself and stops like the real apps.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, socket: { type: 'string' } },
  strict: false,
});

const sockets = new Set<net.Socket>();
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields })}\n`);
};

server.on('listening', () => {
  const address = server.address();
  const printed = typeof address === 'string' ? address : `${address?.address}:${address?.port}`;
  log({ model: 'reference', address: printed, msg: 'listening' });
});

const stop = (): void => {
  server.close();
  for (const socket of sockets) socket.destroy();
  setTimeout(() => process.exit(0), 50).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

if (typeof values.socket === 'string') server.listen(values.socket);
else server.listen(Number(values.port), String(values.host), 511);
