/** The conformance suite (../conformance-suite.ts) on worker-pool --workers 4: a file of its own, so vitest runs two variants at once. */
import { describeConformance } from '../conformance-suite.js';

describeConformance('worker-pool --workers 4');
