/** The conformance toolkit: start a built server, talk to it in each dialect, and know which models to run. */

export * from './clients.js';
export * from './models.js';
export * from './redis-process.js';
export * from './seeded-random.js';
export * from './server-process.js';
