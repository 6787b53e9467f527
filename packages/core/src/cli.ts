/** The start of every model's `main`: flags parsed, `--help` and `--version` printed, bad input reported with exit code 2. */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROTOCOL_VERSION } from '@echoplex/protocol';
import { type CliSpec, ConfigError, type FlagSpec, type ParsedCommandLine, parseCommandLine } from './config.js';
import { ListenError } from './listener.js';

/** Parses `process.argv`; prints help, the version or the error and exits when there is nothing to run. */
export function readCommandLine<Flags extends Record<string, FlagSpec<unknown>>>(
  spec: CliSpec<Flags>,
): Exclude<ParsedCommandLine<Flags>, { readonly help: string } | { readonly version: true }> {
  try {
    const parsed = parseCommandLine(process.argv.slice(2), spec);
    if ('help' in parsed) {
      process.stdout.write(`${parsed.help}\n`);
      process.exit(0);
    }
    if ('version' in parsed) {
      process.stdout.write(`${versionText(spec.model)}\n`);
      process.exit(0);
    }
    return { ...parsed, server: { ...parsed.server, filesDir: checkedFilesDir(parsed.server.filesDir) } };
  } catch (error) {
    exitOnStartupError(spec.model, error);
  }
}

/** `--files DIR` names a directory, checked at start so a typo is a usage error, not a 404 per request; resolved to its real path. */
function checkedFilesDir(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const dir = resolve(raw);
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) throw new ConfigError(`--files: '${raw}' is not a directory`);
  return realpathSync(dir);
}

/** `echoplex-event-loop 1.0.0 (protocol 1, node v20.19.0)`: the version is the core's, which every model runs. */
export function versionText(model: string): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `echoplex-${model} ${version} (protocol ${PROTOCOL_VERSION}, node ${process.version})`;
}

/**
 * A `ConfigError` is a usage error (exit 2, with the pointer to `--help`); a `ListenError` is the
 * machine saying no (port taken, socket in use: exit 1, no pointer, the flags were fine); anything else is rethrown.
 */
export function exitOnStartupError(model: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`echoplex ${model}: ${error.message}\nTry --help for the flags.\n`);
    process.exit(2);
  }
  if (error instanceof ListenError) {
    process.stderr.write(`echoplex ${model}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
