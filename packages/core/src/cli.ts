/** The start of every model's `main`: flags parsed, `--help` printed, bad input reported with exit code 2. */
import { type CliSpec, ConfigError, type FlagSpec, type ParsedCommandLine, parseCommandLine } from './config.js';

/** Parses `process.argv`; prints help or the error and exits when there is nothing to run. */
export function readCommandLine<Flags extends Record<string, FlagSpec<unknown>>>(
  spec: CliSpec<Flags>,
): Exclude<ParsedCommandLine<Flags>, { readonly help: string }> {
  try {
    const parsed = parseCommandLine(process.argv.slice(2), spec);
    if ('help' in parsed) {
      process.stdout.write(`${parsed.help}\n`);
      process.exit(0);
    }
    return parsed;
  } catch (error) {
    exitOnConfigError(spec.model, error);
  }
}

/** Reports a `ConfigError` as a usage error (exit 2); rethrows anything else. */
export function exitOnConfigError(model: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`echoplex ${model}: ${error.message}\nTry --help for the flags.\n`);
    process.exit(2);
  }
  throw error;
}
