/** The conformance suite (../conformance-suite.ts) on event-loop: a file of its own, so vitest runs two variants at once. */
import { describeConformance } from '../conformance-suite.js';

describeConformance('event-loop');
