import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { writeReports } from '../src/report-files.js';
import { syntheticResults } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';

it('report.html opens in headless Chromium with every chart drawn', async () => {
  // Never skipped: without a browser the check did not happen, and that must show as a failure.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`).toBe(true);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'echoplex-html-'));
  const { html } = writeReports(syntheticResults(), dir);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // The page is self-contained: any request beyond the file itself is a bug.
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(html).href);
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('path.series, rect.bar, circle.point')].filter((mark) => {
          // Runs in the page: getBBox exists there, the Node typings do not know it.
          const bbox = (mark as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return bbox.width > 0 || bbox.height > 0;
        });
        return { id: svg.getAttribute('data-chart'), width: box.width, height: box.height, marks: marks.length };
      }),
    );
    expect(charts.map((chart) => chart.id)).toEqual(['throughput', 'latency', 'cpu', 'memory', 'rate']);
    for (const chart of charts) {
      expect(chart.width, `${chart.id} width`).toBeGreaterThan(100);
      expect(chart.height, `${chart.id} height`).toBeGreaterThan(100);
      expect(chart.marks, `${chart.id} marks`).toBeGreaterThan(0);
    }
    expect(await page.locator('table').count()).toBeGreaterThanOrEqual(3);
    // The summary is the first table on the page, and each of its steps has a sentence.
    expect(await page.locator('table').first().getAttribute('class')).toBe('summary');
    expect(await page.locator('ul.sentences li').count()).toBe(await page.locator('table.summary tbody tr').count());
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}, 60_000);
