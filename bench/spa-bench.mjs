#!/usr/bin/env node
// Times the web interface in Chromium against a running, seeded Silo (see bench/spa.sh):
// first render of the home page, the collections list and the treemap, and the treemap's
// redraw after a push. Prints one JSON object.
//
//   SILO_URL=http://127.0.0.1:18095 SILO_TOKEN=… node bench/spa-bench.mjs
//
// "First render" is from the start of navigation (a fresh browser context, so nothing cached)
// to the page's content being in the DOM: the home page's figures, the first collection
// card, the treemap's rectangles. Each is the median of RUNS runs.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const base = (process.env.SILO_URL || '').replace(/\/+$/, '');
const token = process.env.SILO_TOKEN || '';
const runs = Number(process.env.RUNS || 5);
if (!base) {
  console.error('set SILO_URL');
  process.exit(2);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function firstRender(browser, url, selector) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(base + url, { waitUntil: 'commit' });
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: 60_000 });
    times.push(Date.now() - started);
    await context.close();
  }
  return median(times);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const result = {};
result.home_first_render_ms = await firstRender(browser, '/', '.stats .stat-value');
result.collections_first_render_ms = await firstRender(browser, '/collections', '.collection-card');
result.treemap_first_render_ms = await firstRender(browser, '/treemap', '[data-renders]:not([data-renders="0"])');

// Redraw after a push: the page is open; a push lands; time until the treemap has redrawn.
if (token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(base + '/treemap');
  const map = page.locator('[data-renders]').first();
  await page.locator('[data-renders]:not([data-renders="0"])').first().waitFor();
  const before = Number(await map.getAttribute('data-renders'));
  const started = Date.now();
  const push = spawnSync('node', [path.join(here, '..', 'end2end', 'seed.mjs'), `bench/live/push${Date.now()}`], {
    env: {
      ...process.env,
      SILO_URL: base,
      SILO_TOKEN: token,
      SILO_E2E_TAGS: 'latest',
      SILO_E2E_SIF: path.join(here, '..', 'domain', 'tests', 'fixtures', 'minimal.sif'),
    },
    encoding: 'utf8',
  });
  if (push.status !== 0) throw new Error(`push failed: ${push.stderr}`);
  const pushed = Date.now();
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-renders]')?.getAttribute('data-renders')) > n,
    before,
    { timeout: 30_000 },
  );
  result.treemap_push_to_redraw_ms = Date.now() - pushed;
  result.treemap_push_ms = pushed - started;
  result.treemap_redraw_ms = Number(await map.getAttribute('data-render-ms'));
  await context.close();
}
await browser.close();
console.log(JSON.stringify(result, null, 2));
