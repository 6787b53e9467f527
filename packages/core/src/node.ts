/**
 * `@echoplex/core/node`: the Node runtime that any thread or child runs: `node:net` sockets
 * under sessions, idle and drain timers, the lingering close, UDP sockets and threads, the
 * parent's side of the server view. Light on purpose (no logging, metrics or Redis libraries):
 * a handler thread or forked child pays at start-up for what it imports.
 */
export * from './datagram-endpoint.js';
export * from './datagram-threads.js';
export * from './directory-store.js';
export * from './idle-timer.js';
export * from './lingering-close.js';
export * from './listener.js';
export * from './open-sockets.js';
export * from './refuse-paused.js';
export * from './socket-sessions.js';
export * from './view-relay.js';
