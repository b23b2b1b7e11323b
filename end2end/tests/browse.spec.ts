// Browsing at some scale: the collections list (sorting, entity and text filters, pages, deep
// links), live search from the header (mouse and keyboard, private content never shown), the
// about/tools/terms pages and the error pages.
//
// Needs what run-spa.sh sets up: SILO_URL, SILO_E2E_CONTAINER (a public container),
// SILO_E2E_PRIVATE_CONTAINER, SILO_E2E_CENTRE_NAME, and `silo seed` data (SILO_E2E_SEEDED=1:
// users seed-user-NNN with more collections than fit on one page).
import { test, expect, type Page } from '@playwright/test';

const containerPath = process.env.SILO_E2E_CONTAINER || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const centreName = process.env.SILO_E2E_CENTRE_NAME || '';
const seeded = process.env.SILO_E2E_SEEDED === '1';

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

async function values(page: Page, field: string): Promise<number[]> {
  const texts = await page.locator(`.collection-card [data-field="${field}"]`).evaluateAll((els) =>
    els.map((el) => el.getAttribute('data-value') || ''),
  );
  return texts.map(Number);
}

function sortedDescending(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || xs[i - 1] >= x);
}

// Waits until the cards shown answer this sort (the URL changes before the new listing
// arrives, and until then the previous cards are still on the page).
async function listed(page: Page, sort: string, order: 'asc' | 'desc', listingPage = 1) {
  await expect(
    page.locator(
      `[data-testid="collection-cards"][data-sort="${sort}"][data-order="${order}"][data-page="${listingPage}"]`,
    ),
  ).toBeVisible();
}

test.describe('collections list', () => {
  test.skip(!seeded, 'needs `silo seed` data (SILO_E2E_SEEDED=1)');

  test('sorts, filters and pages through the URL', async ({ page }) => {
    await page.goto('/collections');
    await appReady(page);
    const cards = page.locator('.collection-card');
    await expect(cards.first()).toBeVisible();
    await expect(cards).toHaveCount(48);
    await expect(page.locator('.listing-summary')).toContainText(/^1–48 of \d+ collections$/);

    // Sort by size: the URL says so and the sizes fall.
    await page.locator('select[name="sort"]').selectOption('size');
    await expect(page).toHaveURL(/\/collections\?sort=size$/);
    await listed(page, 'size', 'desc');
    await expect(cards).toHaveCount(48);
    expect(sortedDescending(await values(page, 'size'))).toBe(true);
    // Flip to ascending.
    await page.locator('.order-btn').click();
    await expect(page).toHaveURL(/sort=size&order=asc/);
    await listed(page, 'size', 'asc');
    const ascending = await values(page, 'size');
    expect(sortedDescending([...ascending].reverse())).toBe(true);

    // Downloads, then stars.
    await page.locator('select[name="sort"]').selectOption('downloads');
    await expect(page).toHaveURL(/\?sort=downloads$/);
    await listed(page, 'downloads', 'desc');
    expect(sortedDescending(await values(page, 'downloads'))).toBe(true);
    await page.locator('select[name="sort"]').selectOption('stars');
    await expect(page).toHaveURL(/\?sort=stars$/);
    await listed(page, 'stars', 'desc');
    expect(sortedDescending(await values(page, 'stars'))).toBe(true);

    // Next page, and a reload keeps it.
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect(page).toHaveURL(/sort=stars&page=2/);
    await expect(page.locator('.listing-summary')).toContainText(/^49–/);
    await expect(page.locator('.pager-where')).toContainText('Page 2 of');
    await page.reload();
    await appReady(page);
    await expect(page.locator('.pager-where')).toContainText('Page 2 of');
    await expect(page.locator('select[name="sort"]')).toHaveValue('stars');

    // Only one entity's collections.
    const entity = page.locator('input[name="entity"]');
    await entity.fill('seed-user-001');
    await entity.press('Enter');
    await expect(page).toHaveURL(/entity=seed-user-001/);
    await expect(page).not.toHaveURL(/page=2/);
    // Polled: until the filtered listing arrives, the previous cards are still shown.
    await expect
      .poll(async () => {
        const names = await page.locator('.collection-card .collection-link').allInnerTexts();
        return names.length > 0 && names.every((name) => /^seed-user-001\//.test(name.replace(/\s+/g, '')));
      })
      .toBe(true);

    // A text filter that matches nothing says so.
    const q = page.locator('input[name="q"]');
    await q.fill('no-such-collection-anywhere');
    await q.press('Enter');
    await expect(page.getByText('No collection matches')).toBeVisible();
  });

  test('private collections are not listed for anonymous visitors', async ({ page }) => {
    const [entity, collection] = privateContainer.split('/');
    await page.goto(`/collections?entity=${entity}`);
    await appReady(page);
    await expect(page.locator('.collection-card').first()).toBeVisible();
    await expect(page.locator(`a[href="/c/${entity}/${collection}"]`)).toHaveCount(0);
    await expect(page.locator('.collection-card .badge-private')).toHaveCount(0);
  });
});

test.describe('live search', () => {
  test('suggests as you type and follows the keyboard', async ({ page }) => {
    const [, , container] = containerPath.split('/');
    await page.goto('/');
    await appReady(page);
    const box = page.getByRole('combobox', { name: 'Search the registry' });
    await box.click();
    await box.pressSequentially(container.slice(0, 4), { delay: 30 });
    const hit = page.locator('#search-listbox .search-option', { hasText: containerPath });
    await expect(hit).toBeVisible();
    await expect(box).toHaveAttribute('aria-expanded', 'true');
    // Arrow down to the hit, Enter opens its page.
    const options = page.locator('#search-listbox .search-option');
    const index = (await options.allInnerTexts()).findIndex((t) => t.includes(containerPath));
    for (let i = 0; i <= index; i++) await box.press('ArrowDown');
    await expect(options.nth(index)).toHaveAttribute('aria-selected', 'true');
    await box.press('Enter');
    await expect(page).toHaveURL(new RegExp(`/c/${containerPath}$`));
    await expect(page.locator('h1.path-title')).toContainText(container);

    // Escape closes the list; Enter without a highlighted hit opens the results page.
    await box.fill('latest');
    await expect(page.locator('#search-listbox')).toBeVisible();
    await box.press('Escape');
    await expect(page.locator('#search-listbox')).toHaveCount(0);
    await box.press('Enter');
    await expect(page).toHaveURL(/\/search\?q=latest$/);
    await expect(page.locator('[data-testid="search-results"] .search-hit').first()).toBeVisible();
    await expect(page.locator('[data-testid="search-results"]')).toContainText('tag latest');
  });

  test('never shows private content to anonymous visitors', async ({ page }) => {
    const [, collection, container] = privateContainer.split('/');
    for (const needle of [container, collection]) {
      await page.goto(`/search?q=${needle}`);
      await appReady(page);
      await expect(page.getByText('Nothing found')).toBeVisible();
      await expect(page.locator(`a[href^="/c/${privateContainer.split('/').slice(0, 2).join('/')}"]`)).toHaveCount(0);
    }
    // And the live list agrees.
    const box = page.getByRole('combobox', { name: 'Search the registry' });
    await box.fill(container);
    await expect(page.locator('#search-listbox')).toContainText('Nothing found');
  });

  test('results page survives a reload', async ({ page }) => {
    const [, , container] = containerPath.split('/');
    await page.goto(`/search?q=${container}`);
    await appReady(page);
    await expect(page.locator(`[data-testid="search-results"] a[href="/c/${containerPath}"]`)).toBeVisible();
    await page.reload();
    await appReady(page);
    await expect(page.locator(`[data-testid="search-results"] a[href="/c/${containerPath}"]`)).toBeVisible();
  });
});

test.describe('about, tools, terms and error pages', () => {
  test('footer pages use the branding and reload as deep links', async ({ page }) => {
    await page.goto('/');
    await appReady(page);
    for (const [name, marker] of [
      ['About', 'about'],
      ['Tools', 'tools'],
      ['Terms', 'terms'],
    ]) {
      await page.locator('.footer-nav').getByRole('link', { name, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/${marker}$`));
      const article = page.locator(`article[data-page="${marker}"]`);
      await expect(article.locator('h1')).toBeVisible();
      if (centreName && marker !== 'terms') await expect(article).toContainText(centreName);
      await expect(article).toContainText('help@example.org');
      await page.reload();
      await appReady(page);
      await expect(page.locator(`article[data-page="${marker}"] h1`)).toBeVisible();
    }
    // The tools page has set-up commands naming this registry and links the API docs.
    await page.goto('/tools');
    await appReady(page);
    const base = new URL(page.url());
    await expect(page.locator('.cmd code').first()).toContainText(`${base.protocol}//${base.host}`);
    await expect(page.locator('.cmd code', { hasText: 'oras://' }).first()).toBeVisible();
    const api = page.getByRole('link', { name: 'API documentation' });
    await expect(api).toHaveAttribute('href', '/api/docs');
    const docs = await page.request.get('/api/docs');
    expect(docs.status()).toBe(200);
  });

  test('unknown pages and private paths give the 404 page', async ({ page }) => {
    await page.goto('/this/page/does/not/exist');
    await appReady(page);
    await expect(page.locator('[data-status="404"]')).toBeVisible();
    await page.goto(`/c/${privateContainer}`);
    await appReady(page);
    await expect(page.locator('[data-status="404"]')).toContainText('or it is private');
  });

  test('works on a phone-sized screen', async ({ page }) => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto('/collections');
    await appReady(page);
    await expect(page.locator('.collection-card').first()).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(page.getByRole('combobox', { name: 'Search the registry' })).toBeVisible();
  });
});
