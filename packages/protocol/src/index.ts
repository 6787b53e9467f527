/** Echoplex wire protocol v1: the codecs every server, client and test shares. */

export * from './binary-dialect.js';
export * from './datagram.js';
export * from './dialect.js';
export * from './errors.js';
export * from './file-replies.js';
export * from './frame.js';
export * from './http.js';
export * from './line.js';
export * from './messages.js';
export * from './names.js';
export * from './text-dialect.js';
export * from './work.js';
