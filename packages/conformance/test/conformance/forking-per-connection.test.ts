/** The conformance suite (../conformance-suite.ts) on forking --mode per-connection: a file of its own, so vitest runs two variants at once. */
import { describeConformance } from '../conformance-suite.js';

describeConformance('forking --mode per-connection');
