/**
 * `@echoplex/core/server`: the Node runtime of the process that listens: flags read and exit
 * codes, the hub its flags name (Redis with --hub), pino logs, /metrics, INFO, signals and the
 * drain. A model's main.ts starts here (`startServer`); threads and children never load it.
 */
export * from './cli.js';
export * from './logger.js';
export * from './metrics.js';
export * from './redis-hub.js';
export * from './server-hub.js';
export * from './server-info.js';
export * from './server-process.js';
export * from './shutdown.js';
