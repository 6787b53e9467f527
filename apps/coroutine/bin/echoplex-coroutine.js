#!/usr/bin/env node
// `echoplex-coroutine`, committed rather than built: npm links and marks it executable at install time, before `npm run build` writes dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`echoplex-coroutine: ${fileURLToPath(entry)} is missing: run npm run build first\n`);
  process.exit(1);
}
await import(entry.href);
