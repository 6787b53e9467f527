/**
 * `GET /` in a real browser, for every model: a page with the model, uptime, connections, rooms and
 * live counters, links to /info and /metrics, no script error, and no request beyond the server itself.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TextClient } from '../src/clients.js';
import { presentVariants, variantName } from '../src/models.js';
import { killAllServers, type RunningServer, startServer } from '../src/server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const variants = presentVariants();
const servers: RunningServer[] = [];

beforeAll(async () => {
  for (const variant of variants) servers.push(await startServer(variant.model, [...variant.flags, '--port', '0']));
});
afterAll(() => killAllServers());

it('GET / is a self-contained status page on every model, its figures live', async () => {
  // Never skipped: without a browser the check did not happen, and that must show as a failure.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`).toBe(true);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  try {
    for (const [index, server] of servers.entries()) {
      const name = variantName(variants[index] as (typeof variants)[number]);
      const origin = `http://${server.address}`;
      // One chat member in one room, so the page has a room and a connection to show.
      const member = await TextClient.open(server.target);
      expect(await member.request('NICK pagewatcher')).toBe('OK NICK pagewatcher');
      expect(await member.request('JOIN lobby')).toBe('OK JOIN lobby');

      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));

      const response = await page.goto(`${origin}/`);
      expect(response?.status(), name).toBe(200);
      expect(response?.headers()['content-type'], name).toMatch(/^text\/html/);
      expect(await page.title(), name).toBe(`Echoplex ${server.model}`);
      expect(await page.textContent('#model'), name).toBe(server.model);
      expect(await page.textContent('#uptime'), name).toMatch(/^\d+ (s|min)/);
      expect(Number(await page.textContent('#connections')), name).toBeGreaterThanOrEqual(1);
      expect(await page.textContent('#rooms'), name).toBe('1');
      const accepted = Number((await page.textContent('#echoplex_connections_accepted_total'))?.replace(/,/g, ''));
      expect(accepted, name).toBeGreaterThanOrEqual(2);
      expect(await page.getAttribute('a[href="/info"]', 'href'), name).toBe('/info');
      expect(await page.getAttribute('a[href="/metrics"]', 'href'), name).toBe('/metrics');

      // Live: the page refreshes itself; the counter grows with the requests made meanwhile.
      expect(await member.request('PING')).toBe('PONG');
      await page.waitForFunction(
        (before) => Number(document.getElementById('echoplex_requests_total')?.textContent?.replace(/,/g, '')) > before,
        Number((await page.textContent('#echoplex_requests_total'))?.replace(/,/g, '')),
        { timeout: 5_000 },
      );

      expect(problems, name).toEqual([]);
      expect(
        requests.filter((url) => !url.startsWith(`${origin}/`)),
        name,
      ).toEqual([]);
      await page.close();
      member.destroy();
    }
  } finally {
    await browser.close();
  }
}, 90_000);
