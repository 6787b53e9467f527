/**
 * Two workers end together only if the longest files start first. vitest orders by the durations it
 * cached, but a clean clone has none (it would go by file size, and the per-variant files are all
 * one line): these files, known to take longest, go first in that order; the rest as vitest sorts them.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST_FIRST = [
  'conformance/forking-per-connection.test.ts',
  'hub-across-servers.test.ts',
  'files.test.ts',
  'conformance/blocking.test.ts',
  'status-page.browser.test.ts',
];

const rank = (file: TestSpecification): number => {
  const index = LONGEST_FIRST.findIndex((name) => file.moduleId.endsWith(`/test/${name}`));
  return index === -1 ? LONGEST_FIRST.length : index;
};

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
