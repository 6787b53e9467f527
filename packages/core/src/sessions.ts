/**
 * The light entry point, `@echoplex/core/sessions`: what a worker thread or forked child
 * needs to run sessions, without the logger and metrics libraries that the process
 * serving the listener loads. Every model's per-thread start-up pays for what it imports.
 */
export * from './datagram-endpoint.js';
export * from './datagram-handler.js';
export * from './datagram-threads.js';
export * from './hub.js';
export * from './hub-relay.js';
export * from './idle-timer.js';
export * from './lingering-close.js';
export * from './local-hub.js';
export * from './open-sockets.js';
export * from './refusal.js';
export * from './server-view.js';
export * from './session.js';
export * from './socket-handler.js';
export * from './socket-sessions.js';
export * from './stats.js';
