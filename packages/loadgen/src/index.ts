/** @echoplex/loadgen: the protocol client, the load generator as a library, and their types. */
export type { ServerInfo } from '@echoplex/protocol';
export { type ClientOptions, EchoplexClient } from './client/echoplex-client.js';
export { ConnectionClosedError, EchoplexError } from './client/echoplex-error.js';
export type { ClientDialect } from './client/message-reader.js';
export { type Assertion, type AssertionOutcome, checkAssertions, parseAssertion } from './load/assertions.js';
export { buildExchange, patternBytes } from './load/exchange.js';
export { FlagError, LOAD_USAGE, parseDuration, parseLoadFlags, parseSize } from './load/load-flags.js';
export {
  DEFAULT_CHAT_RATE,
  DEFAULT_LOAD_OPTIONS,
  type LoadOptions,
  SCENARIOS,
  type ScenarioName,
  validateLoadOptions,
  withDefaults,
} from './load/load-options.js';
export type { LatencyMicros, LoadResult, TimelineSecond } from './load/load-result.js';
export { formatMicros, formatResult } from './load/result-text.js';
export { type RunHooks, runLoad } from './load/run-load.js';
export { TargetUnreachableError } from './load/shard.js';
export { connectOptions, formatTarget, parseTarget, type Target, TargetError } from './target.js';
export { type DiscoveredServer, type Discovery, discoverServers } from './udp/discover.js';
export { isUdpResult, runUdpLoad, type UdpLoadResult } from './udp/udp-load.js';
