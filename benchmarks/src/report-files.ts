/** Writes a bench's three reports into `benchmarks/results/<timestamp>/`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './models.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-markdown.js';
import type { BenchResults } from './results-schema.js';

export const RESULTS_ROOT = path.join(repoRoot, 'benchmarks', 'results');

export function defaultResultsDir(createdAt: string): string {
  return path.join(RESULTS_ROOT, createdAt.replace(/[:.]/g, '-'));
}

export function writeReports(results: BenchResults, dir: string): { json: string; markdown: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const files = { json: path.join(dir, 'results.json'), markdown: path.join(dir, 'report.md'), html: path.join(dir, 'report.html') };
  writeFileSync(files.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.markdown, renderMarkdown(results));
  writeFileSync(files.html, renderHtml(results));
  return files;
}
