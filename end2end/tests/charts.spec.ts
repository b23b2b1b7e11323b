// Usage charts (pulls per day, storage growth), the entity page, the home page's "most
// pulled" list and the container's version history.
//
// Needs SILO_URL and SILO_E2E_CONTAINER (a public container with a `latest` amd64 tag, pushed
// by end2end/seed.mjs); SILO_E2E_PRIVATE_CONTAINER (optional) must stay invisible. The tests
// pull the public image through the library API to have something to chart.
import { test, expect, request, type Locator, type Page } from '@playwright/test';
import * as path from 'node:path';

const containerPath = process.env.SILO_E2E_CONTAINER || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const [entity, collection, container] = containerPath.split('/');
const PULLS = 25; // more than any `silo seed` container gets (at most 21), so it tops "most pulled"
const screenshots = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().includes('404')) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/** The number shown in a `N pulls in the last D days` summary. */
async function pullsInSummary(page: Page): Promise<number> {
  const text = await page.locator('[data-chart="pulls"] .chart-summary').innerText();
  const match = text.match(/^(\d+) pulls? in the last/);
  expect(match, text).not.toBeNull();
  return Number(match![1]);
}

test.describe.configure({ mode: 'serial' });

// How far a chart's drawing is from its box's width, in CSS pixels.
async function misfit(chart: Locator): Promise<number> {
  const box = await chart.boundingBox();
  const svgWidth = await chart.locator('svg').getAttribute('width');
  return Math.abs(Number(svgWidth) - Math.round(box!.width));
}

test.describe('usage charts and entity pages', () => {
  test.beforeAll(async () => {
    expect(containerPath.split('/'), 'set SILO_E2E_CONTAINER=entity/collection/container').toHaveLength(3);
    // Pull the public image a few times, as `apptainer pull library://…` does.
    const api = await request.newContext({ baseURL: process.env.SILO_URL });
    for (let i = 0; i < PULLS; i++) {
      const res = await api.get(`/v1/imagefile/${containerPath}:latest?arch=amd64`, { maxRedirects: 0 });
      expect([200, 303], `pull ${i}: HTTP ${res.status()}`).toContain(res.status());
    }
    await api.dispose();
  });

  test('container page: pulls chart, range selection, version history', async ({ page }) => {
    const errors = collectErrors(page);
    await page.goto(`/c/${containerPath}`);
    await appReady(page);
    const usage = page.locator('[data-testid="usage"]');
    await expect(usage.getByRole('heading', { name: 'Usage' })).toBeVisible();
    const chart = usage.locator('[data-chart="pulls"] .chart-canvas');
    await expect(chart.locator('svg')).toBeVisible();
    // One bar (today), in the pulls colour; the label summarises for screen readers.
    await expect(chart.locator('svg rect[fill="#1A5CA3"]')).toHaveCount(1);
    await expect(chart).toHaveAttribute('role', 'img');
    await expect(chart).toHaveAttribute('aria-label', /pulls? in the last 30 days/);
    expect(await pullsInSummary(page)).toBeGreaterThanOrEqual(PULLS);
    await expect(usage.locator('button[data-range="30"]')).toHaveAttribute('aria-pressed', 'true');
    // The chart fills its box (responsive width, not the 720 px default), also once the
    // page's layout has settled around it (polled: the redraw follows the box's new size).
    await expect.poll(() => misfit(chart)).toBeLessThanOrEqual(2);

    // A shorter range redraws with fewer days.
    const ticksBefore = await chart.locator('svg text').allTextContents();
    await usage.locator('button[data-range="7"]').click();
    await expect(usage.locator('button[data-range="7"]')).toHaveAttribute('aria-pressed', 'true');
    await expect(usage.locator('button[data-range="30"]')).toHaveAttribute('aria-pressed', 'false');
    await expect(usage.locator('[data-chart="pulls"] .chart-summary')).toContainText('in the last 7 days');
    await expect(chart.locator('svg rect[fill="#1A5CA3"]')).toHaveCount(1);
    expect(await chart.locator('svg text').allTextContents()).not.toEqual(ticksBefore);
    await usage.locator('button[data-range="365"]').click();
    await expect(usage.locator('[data-chart="pulls"] .chart-summary')).toContainText('in the last 365 days');

    // The numbers as a table.
    await usage.locator('[data-chart="pulls"] details summary').click();
    await expect(usage.locator('[data-chart="pulls"] details tbody tr')).toHaveCount(1);

    // Containers have no storage chart of their own.
    await expect(usage.locator('[data-chart="storage"]')).toHaveCount(0);

    // Version history: every image by hash, with its tags.
    const versions = page.locator('[data-testid="versions"]');
    await expect(versions.getByRole('heading', { name: 'Version history' })).toBeVisible();
    const rows = versions.locator('tbody tr');
    await expect(rows).toHaveCount(1);
    const sha = await rows.first().getAttribute('data-sha256');
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    await expect(rows.first().locator('td').first()).toHaveText(sha!.slice(0, 12));
    await expect(rows.first()).toContainText('latest');
    await expect(rows.first()).toContainText('amd64');
    await expect(rows.first().locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);

    // A narrower window: the chart redraws to its smaller box.
    const wide = Number(await chart.locator('svg').getAttribute('width'));
    await page.setViewportSize({ width: 700, height: 900 });
    await expect.poll(async () => Number(await chart.locator('svg').getAttribute('width'))).toBeLessThan(wide);
    await expect.poll(() => misfit(chart)).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  test('collection page: pulls and storage growth', async ({ page }) => {
    await page.goto(`/c/${entity}/${collection}`);
    await appReady(page);
    const usage = page.locator('[data-testid="usage"]');
    // Registry-wide: today's pulls, and with `silo seed` data (run-spa.sh) earlier days too.
    await expect(usage.locator('[data-chart="pulls"] svg rect[fill="#1A5CA3"]').first()).toBeVisible();
    expect(await pullsInSummary(page)).toBeGreaterThanOrEqual(PULLS);
    const storage = usage.locator('[data-chart="storage"]');
    await expect(storage.locator('svg')).toBeVisible();
    await expect(storage.locator('svg [stroke="#1F7A43"]').first()).toBeAttached();
    await expect(storage.locator('.chart-summary')).toContainText(/stored on \d{4}-\d\d-\d\d/);
    await expect(storage.locator('.chart-canvas')).toHaveAttribute('aria-label', /KiB|MiB|B stored/);
    // The entity name links to the entity page.
    await page.locator('.crumbs').getByRole('link', { name: entity, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/c/${entity}$`));
    await expect(page.locator('[data-testid="entity-name"]')).toHaveText(entity);
  });

  test('empty range and loading state', async ({ page }) => {
    const days = Array.from({ length: 30 }, (_, i) => ({
      date: `2026-01-${String(i + 1).padStart(2, '0')}`,
      downloads: 0,
      bytes_total: 0,
    }));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/rpc/usage*', async (route) => {
      await gate;
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ days, has_storage: false }) });
    });
    await page.goto(`/c/${containerPath}`);
    await appReady(page);
    const usage = page.locator('[data-testid="usage"]');
    await expect(usage.locator('.loading')).toBeVisible();
    release();
    await expect(usage.getByText('No pulls in this range')).toBeVisible();
    await expect(usage.locator('svg')).toHaveCount(0);
  });

  test('stats page: registry-wide charts, deep link and header link', async ({ page }) => {
    await page.goto('/');
    await appReady(page);
    await page.locator('.site-nav').getByRole('link', { name: 'Usage' }).click();
    await expect(page).toHaveURL(/\/stats$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();
    await page.reload();
    await appReady(page);
    await expect(page.locator('[data-testid="registry-totals"]')).toContainText('pulls');
    const usage = page.locator('[data-testid="usage"]');
    // Registry-wide: today's pulls, and with `silo seed` data (run-spa.sh) earlier days too.
    await expect(usage.locator('[data-chart="pulls"] svg rect[fill="#1A5CA3"]').first()).toBeVisible();
    expect(await pullsInSummary(page)).toBeGreaterThanOrEqual(PULLS);
    await expect(usage.locator('[data-chart="storage"] svg')).toBeVisible();
    await usage.locator('button[data-range="90"]').click();
    await expect(usage.locator('[data-chart="storage"] .chart-summary')).toContainText('stored on');
    await expect(usage.locator('[data-chart="pulls"] .chart-summary')).toContainText('in the last 90 days');
    await expect(usage).toHaveAttribute('aria-busy', 'false');
    await page.screenshot({ path: path.join(screenshots, 'usage.png'), fullPage: true });

    // The theme repaints the drawing: bars and axis labels follow light and dark mode.
    const bar = usage.locator('[data-chart="pulls"] svg rect[fill="#1A5CA3"]').first();
    const label = usage.locator('[data-chart="pulls"] svg text').first();
    const fill = (l: typeof bar) => l.evaluate((el) => getComputedStyle(el).fill);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await fill(bar)).toBe('rgb(26, 92, 163)');
    expect(await fill(label)).toBe('rgb(85, 96, 109)');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await fill(bar)).toBe('rgb(124, 184, 242)');
    expect(await fill(label)).toBe('rgb(154, 168, 184)');
    await page.screenshot({ path: path.join(screenshots, 'usage-dark.png'), fullPage: true });
  });

  test('entity page: collections, pulls, deep link, 404', async ({ page }) => {
    await page.goto(`/c/${entity}`);
    await appReady(page);
    await expect(page.locator('[data-testid="entity-name"]')).toHaveText(entity);
    await expect(page).toHaveTitle(new RegExp(`^${entity} · `));
    const table = page.locator('[data-testid="entity-collections"]');
    await expect(table.locator(`a[href="/c/${entity}/${collection}"]`)).toBeVisible();
    if (privateContainer) {
      const [, hidden] = privateContainer.split('/');
      await expect(table.locator(`a[href="/c/${entity}/${hidden}"]`)).toHaveCount(0);
    }
    const stats = page.locator('[data-testid="entity-stats"]');
    await expect(stats).toContainText('stars received');
    const pulls = stats.locator('.stat', { hasText: /pulls?$/ }).locator('.stat-value');
    expect(Number(await pulls.innerText())).toBeGreaterThanOrEqual(PULLS);

    await page.goto('/c/no-such-entity-here');
    await appReady(page);
    await expect(page.locator('[data-status="404"]')).toBeVisible();
    await expect(page.locator('[data-status="404"]')).toContainText('entity no-such-entity-here');
  });

  test('home page: most pulled, entity links', async ({ page }) => {
    await page.goto('/');
    await appReady(page);
    const pulled = page.locator('[data-testid="most-pulled"]');
    await expect(pulled.locator(`a[href="/c/${containerPath}"]`)).toBeVisible();
    await expect(pulled.locator('.rank-count').first()).toHaveText(/\d+ pulls?/);
    await expect(page.locator('[data-testid="most-starred"]')).toBeVisible();
    if (privateContainer) {
      await expect(page.locator(`a[href="/c/${privateContainer}"]`)).toHaveCount(0);
    }
    // Entity names in the recent pushes lead to the entity page.
    await page.locator('.entity-link', { hasText: entity }).first().click();
    await expect(page).toHaveURL(new RegExp(`/c/${entity}$`));
    await expect(page.locator('[data-testid="entity-name"]')).toHaveText(entity);
  });
});
