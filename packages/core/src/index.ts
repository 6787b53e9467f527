/**
 * `@echoplex/core`: the sans-IO server, pure state machines fed bytes and calls: a Session
 * (bytes in, actions out) over the protocol's codecs, the Hub and its relay across a boundary,
 * the server view's messages, counters, limits and flags. No sockets, timers, signals or
 * process here: those are `@echoplex/core/node` (any thread's or child's glue) and
 * `@echoplex/core/server` (the process that listens).
 */
export * from './config.js';
export * from './datagram-handler.js';
export * from './file-service.js';
export * from './file-store.js';
export * from './hub.js';
export * from './hub-relay.js';
export * from './local-hub.js';
export * from './refusal.js';
export * from './server-view.js';
export * from './session.js';
export * from './socket-handler.js';
export * from './stats.js';
export * from './turn-bytes.js';
