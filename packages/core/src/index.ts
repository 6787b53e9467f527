/** The sans-IO Echoplex server, shared by every concurrency model. */

export * from './cli.js';
export * from './config.js';
export * from './hub.js';
export * from './hub-relay.js';
export * from './listener.js';
export * from './local-hub.js';
export * from './logger.js';
export * from './metrics.js';
export * from './server-view.js';
export * from './session.js';
export * from './shutdown.js';
export * from './socket-sessions.js';
export * from './stats.js';
