#!/usr/bin/env node
// Screenshots of the key pages for the README, from a running (ideally `silo seed`ed) Silo:
//   SILO_URL=http://127.0.0.1:18095 node bench/screenshots.mjs   -> docs/screenshots/*.png
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');
const base = (process.env.SILO_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const out = path.join(here, '..', 'docs', 'screenshots');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
const shots = [
  ['home', '/', '.stats .stat-value'],
  ['collections', '/collections?sort=size', '.collection-card'],
  ['treemap', '/treemap', '[data-renders]:not([data-renders="0"])'],
  ['stats', '/stats', '[data-chart="pulls"] svg'],
  ['search', '/search?q=genomics', '[data-testid="search-results"]'],
];
for (const [name, url, ready] of shots) {
  await page.goto(base + url);
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(out, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}
await browser.close();
