/** The sans-IO Echoplex server, shared by every concurrency model. */
export * from './cli.js';
export * from './config.js';
export * from './lifecycle.js';
export * from './listener.js';
export * from './logger.js';
export * from './metrics.js';
export * from './redis-hub.js';
export * from './server-hub.js';
export * from './server-info.js';
export * from './sessions.js';
export * from './shutdown.js';
