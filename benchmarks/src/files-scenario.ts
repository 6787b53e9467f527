/**
 * The `files` scenario: 10 connections downloading one 16 MiB file in a loop over binary GET, each
 * model started with `--files DIR` on a directory the harness fills, beside `echo-large`'s 64 KiB
 * ECHOs: how each model moves bulk data off the disk, in MiB/s and server CPU per MiB.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { patternBytes } from '@echoplex/loadgen';
import type { Scenario, ServerSet } from './scenario-registry.js';

export const FILES_FILE_NAME = 'bench-16m.bin';
export const FILES_FILE_BYTES = 16 * 1024 * 1024;
const CONNECTIONS = 10;

let directory: string | undefined;

/** The directory every model serves, made (with its one file) the first time a model needs it, removed when the bench exits. */
export function filesDirectory(): string {
  if (directory !== undefined) return directory;
  const made = mkdtempSync(path.join(os.tmpdir(), 'echoplex-bench-files-'));
  // Not all zeroes, so a byte dropped or doubled would change what a checksum sees.
  writeFileSync(path.join(made, FILES_FILE_NAME), patternBytes(FILES_FILE_BYTES));
  process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  directory = made;
  return made;
}

const SERVED_FILES: ServerSet = {
  key: 'files',
  launch: (model, modelArgs) => ({ entry: model, args: [...modelArgs, '--files', filesDirectory()] }),
};

export const FILES_SCENARIO: Scenario = {
  name: 'files',
  shows: `${CONNECTIONS} connections downloading a 16 MiB file in a loop (binary GET, --files DIR): MiB/s and server CPU per MiB, beside echo-large.`,
  xAxis: 'connections',
  primary: 'mbPerSecond',
  reference: false,
  quick: false,
  steps: () => [
    {
      label: `c${CONNECTIONS}`,
      x: CONNECTIONS,
      servers: SERVED_FILES,
      load: { kind: 'load', args: { scenario: 'get', file: FILES_FILE_NAME, connections: CONNECTIONS } },
    },
  ],
};
