/**
 * Every bin a workspace package declares runs as a newcomer runs it: `npx <bin> --help` from the
 * repository root, through the link `npm install` made, exits 0. The bins are committed launchers,
 * not build output, so npm finds them (and marks them executable) when it links them at install time.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface PackageJson {
  readonly name: string;
  readonly workspaces?: readonly string[];
  readonly bin?: Readonly<Record<string, string>>;
}

const readPackage = (directory: string): PackageJson =>
  JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as PackageJson;

/** `packages/*`, `apps/*`, `benchmarks`: the workspace directories that hold a package.json. */
function workspaceDirectories(): string[] {
  const patterns = readPackage(ROOT).workspaces ?? [];
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [path.join(ROOT, pattern)];
    const parent = path.join(ROOT, pattern.slice(0, -2));
    return readdirSync(parent).map((name) => path.join(parent, name));
  });
}

const BINS = workspaceDirectories()
  .filter((directory) => existsSync(path.join(directory, 'package.json')))
  .flatMap((directory) =>
    Object.entries(readPackage(directory).bin ?? {}).map(([name, file]) => ({ name, file: path.join(directory, file) })),
  );

describe('declared bins', () => {
  it('are declared by the loadgen and by every app', () => {
    const names = BINS.map((bin) => bin.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'echoplex-load',
        'echoplex-chat',
        'echoplex-event-loop',
        'echoplex-blocking',
        'echoplex-worker-pool',
        'echoplex-forking',
      ]),
    );
  });

  for (const bin of BINS) {
    describe(bin.name, () => {
      it('is a committed, executable file outside dist/, linked into node_modules/.bin', () => {
        expect(existsSync(bin.file), `${bin.file} is missing`).toBe(true);
        expect(path.relative(ROOT, bin.file).split(path.sep)).not.toContain('dist');
        expect(() => accessSync(bin.file, constants.X_OK), `${bin.file} is not executable`).not.toThrow();
        const link = path.join(ROOT, 'node_modules', '.bin', bin.name);
        expect(existsSync(link), `${link} is missing: run npm install`).toBe(true);
        expect(realpathSync(link)).toBe(realpathSync(bin.file));
      });

      it('runs `npx --no-install <bin> --help` with exit 0 and prints its usage', () => {
        const run = spawnSync('npx', ['--no-install', bin.name, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/^Usage: /m);
      });
    });
  }
});
