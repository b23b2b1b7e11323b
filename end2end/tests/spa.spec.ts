// Walks the SPA the way a visitor does: home → collections → collection → container, and
// checks that the WASM app really ran and shows a copyable pull command.
//
// Needs SILO_URL (the running registry) and SILO_E2E_CONTAINER (`entity/collection/container`
// of a public container with at least one tag, e.g. pushed by `node end2end/seed.mjs`).
// Optional: SILO_E2E_CENTRE_NAME, the configured branding.name to expect in the header;
// SILO_E2E_PRIVATE_CONTAINER, a container in a private collection that must stay invisible.
import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';

const containerPath = process.env.SILO_E2E_CONTAINER || '';
const centreName = process.env.SILO_E2E_CENTRE_NAME || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const screenshotPath = path.resolve(__dirname, '..', '..', 'docs', 'screenshots', 'container.png');

/** Waits until the WASM app has mounted and run its effects. */
async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

test.describe('Silo web interface', () => {
  test.beforeAll(() => {
    expect(process.env.SILO_URL, 'set SILO_URL to the running registry').toBeTruthy();
    expect(containerPath.split('/'), 'set SILO_E2E_CONTAINER=entity/collection/container').toHaveLength(3);
  });

  test('home → collections → collection → container with pull command', async ({ page }) => {
    const errors = collectErrors(page);
    const [entity, collection, container] = containerPath.split('/');

    // Home: the app ran, the centre's name is in the header and the heading.
    await page.goto('/');
    await appReady(page);
    const brand = page.locator('.site-header .brand-name');
    await expect(brand).not.toHaveText('');
    await expect(page.locator('h1.hero-title')).toHaveText(await brand.innerText());
    if (centreName) {
      await expect(brand).toHaveText(centreName);
      await expect(page).toHaveTitle(centreName);
    }
    await expect(page.locator('.stats')).toBeVisible();

    // Collections list, through the header navigation (client-side routing).
    await page.locator('.site-nav').getByRole('link', { name: 'Collections' }).click();
    await expect(page).toHaveURL(/\/collections$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Collections' })).toBeVisible();
    const collectionLink = page.locator(`a[href="/c/${entity}/${collection}"]`).first();
    await expect(collectionLink).toBeVisible();

    // Collection page.
    await collectionLink.click();
    await expect(page).toHaveURL(new RegExp(`/c/${entity}/${collection}$`));
    await expect(page.locator('h1.path-title')).toContainText(collection);
    await expect(page.locator('[data-testid="owners"]')).toContainText(entity);
    const containerLink = page.locator(`a[href="/c/${entity}/${collection}/${container}"]`).first();
    await expect(containerLink).toBeVisible();

    // Container page: tags, image facts, and a pull command naming the container.
    await containerLink.click();
    await expect(page).toHaveURL(new RegExp(`/c/${containerPath}$`));
    await expect(page.locator('h1.path-title')).toContainText(container);
    const pull = page.locator('[data-testid="pull-command"] code');
    await expect(pull).toContainText(`apptainer pull library://`);
    await expect(pull).toContainText(`/${containerPath}:`);
    await expect(page.locator('.tag-row').first()).toBeVisible();
    // The same image through the other protocols.
    const others = page.locator('[data-testid="other-clients"]');
    await others.locator('summary').click();
    await expect(others.locator('code', { hasText: 'oras://' })).toContainText(`/${containerPath}:`);
    await expect(others.locator('code', { hasText: 'shub://' })).toContainText(`/${containerPath}:`);
    await expect(page.locator('.image .sha').first()).toHaveText(/^[0-9a-f]{64}$/);
    // What Silo read from the SIF: the signing key, labels and the definition file.
    await expect(page.locator('[data-testid="fingerprint"]').first()).toHaveText(/^[0-9A-F]{40}$/);
    await expect(page.locator('[data-testid="labels"]').first()).toContainText('Author');
    const definition = page.locator('details.sif-definition').first();
    await definition.locator('summary').click();
    await expect(definition.locator('pre')).toContainText('Bootstrap: docker');
    await page.screenshot({ path: screenshotPath, fullPage: true });

    // The copy button puts exactly the shown command on the clipboard.
    const command = (await pull.innerText()).trim();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const copy = page.locator('[data-testid="pull-command"] button.copy-btn');
    await copy.click();
    await expect(copy).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);

    // A reload on a client-side route still renders the page (index.html fallback).
    await page.reload();
    await appReady(page);
    await expect(page.locator('[data-testid="pull-command"] code')).toContainText(containerPath);

    expect(errors, errors.join('\n')).toEqual([]);
  });

  test('unknown containers get the 404 page', async ({ page }) => {
    const [entity, collection] = containerPath.split('/');
    await page.goto(`/c/${entity}/${collection}/no-such-container-here`);
    await appReady(page);
    await expect(page.locator('[data-status="404"]')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();

    await page.goto('/no/such/page/at/all');
    await appReady(page);
    await expect(page.locator('[data-status="404"]')).toBeVisible();
  });

  test('private collections stay invisible to anonymous visitors', async ({ page }) => {
    test.skip(!privateContainer, 'SILO_E2E_PRIVATE_CONTAINER not set');
    const [entity, collection] = privateContainer.split('/');

    await page.goto('/collections');
    await appReady(page);
    await expect(page.locator('.collection-card').first()).toBeVisible();
    await expect(page.locator(`a[href="/c/${entity}/${collection}"]`)).toHaveCount(0);

    await page.goto('/');
    await appReady(page);
    await expect(page.locator('.stats')).toBeVisible();
    await expect(page.locator(`a[href="/c/${privateContainer}"]`)).toHaveCount(0);

    for (const url of [`/c/${entity}/${collection}`, `/c/${privateContainer}`]) {
      await page.goto(url);
      await appReady(page);
      await expect(page.locator('[data-status="404"]')).toBeVisible();
    }
  });
});
