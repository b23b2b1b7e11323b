// Signed-in use of the web interface: sign in with an API token, star toggles on collection
// and container pages, sign out, the browser upload with its progress bar, and private
// content that only its owner sees.
//
// Needs (set by end2end/run-spa.sh): SILO_URL, SILO_E2E_CONTAINER (a public container),
// SILO_E2E_PRIVATE_CONTAINER (a container in a private collection of the same user),
// SILO_E2E_USER and SILO_E2E_TOKEN (that user and an API token of theirs), and SILO_E2E_SIF
// (a SIF image to upload).
import { test, expect, type Page } from '@playwright/test';

const user = process.env.SILO_E2E_USER || '';
const token = process.env.SILO_E2E_TOKEN || '';
const publicContainer = process.env.SILO_E2E_CONTAINER || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const sifFile = process.env.SILO_E2E_SIF || '';

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

async function signIn(page: Page, next = '') {
  await page.goto(next ? `/login?next=${next}` : '/login');
  await appReady(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
}

/** Clicks a page's star toggle and checks the count and pressed state, also after a reload. */
async function toggleStar(page: Page) {
  const toggle = page.locator('[data-testid="star-toggle"]');
  const count = toggle.locator('[data-testid="star-count"]');
  await expect(toggle).toBeEnabled();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  const before = Number(await count.innerText());
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(count).toHaveText(String(before + 1));
  await page.reload();
  await appReady(page);
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(count).toHaveText(String(before + 1));
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(count).toHaveText(String(before));
  // Star again so the lists below have a count to show.
  await toggle.click();
  await expect(count).toHaveText(String(before + 1));
  return before + 1;
}

test.describe('Signed-in web interface', () => {
  test.beforeAll(() => {
    expect(user && token, 'set SILO_E2E_USER and SILO_E2E_TOKEN').toBeTruthy();
    expect(publicContainer.split('/')).toHaveLength(3);
  });

  test('a wrong token is refused with a clear message', async ({ page }) => {
    await page.goto('/login');
    await appReady(page);
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('API token').fill('silo_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('[data-testid="login-error"]')).toContainText('not valid');
    await expect(page.locator('.site-header').getByRole('link', { name: 'Sign in' })).toBeVisible();
  });

  test('sign in, star a collection and a container, sign out', async ({ page }) => {
    const [entity, collection] = publicContainer.split('/');
    // Anonymous visitors see the count; the toggle sends them to the sign-in page.
    await page.goto(`/c/${publicContainer}`);
    await appReady(page);
    await page.locator('[data-testid="star-toggle"]').click();
    await expect(page).toHaveURL(/\/login\?next=/);

    await page.getByLabel('User name').fill(user);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
    await expect(page).toHaveURL(new RegExp(`/c/${publicContainer}$`));
    await appReady(page);
    const containerStars = await toggleStar(page);

    await page.goto(`/c/${entity}/${collection}`);
    await appReady(page);
    const collectionStars = await toggleStar(page);
    const row = page.locator('tr', { has: page.locator(`a[href="/c/${publicContainer}"]`) });
    await expect(row.locator('[data-testid="container-stars"]')).toHaveText(String(containerStars));

    await page.goto('/collections');
    await appReady(page);
    const card = page.locator('.collection-card', { has: page.locator(`a[href="/c/${entity}/${collection}"]`) });
    await expect(card.locator('[data-testid="collection-stars"]')).toHaveText(`★ ${collectionStars}`);

    // The session survives a reload; signing out ends it.
    await page.reload();
    await appReady(page);
    await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.locator('.site-header').getByRole('link', { name: 'Sign in' })).toBeVisible();
    await page.reload();
    await appReady(page);
    await expect(page.locator('[data-testid="signed-in-user"]')).toHaveCount(0);
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.name === 'silo_session' && c.value !== '')).toHaveLength(0);
  });

  test('upload a SIF from the browser with a progress bar', async ({ page }) => {
    test.skip(!sifFile, 'SILO_E2E_SIF not set');
    await page.goto('/images/upload');
    await appReady(page);
    await expect(page.locator('[data-testid="upload-sign-in"]')).toBeVisible();
    await signIn(page, '/images/upload');
    await expect(page).toHaveURL(/\/images\/upload$/);
    await page.getByLabel('Collection', { exact: true }).fill('web');
    await page.locator('input[type="file"]').setInputFiles(sifFile);
    await page.getByLabel('Container', { exact: true }).fill('uploaded');
    await page.getByLabel('Tag', { exact: true }).fill('v1');

    // Not a SIF: refused with a clear message.
    await page.locator('input[type="file"]').setInputFiles({
      name: 'notes.sif',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('#!/bin/sh\necho this is no image\n'.repeat(40)),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect(page.locator('[data-testid="upload-error"]')).toContainText(/not a valid SIF image/i);

    await page.locator('input[type="file"]').setInputFiles(sifFile);
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect(page.locator('[data-testid="upload-done"]')).toBeVisible();
    await expect(page.locator('[data-testid="upload-progress"]')).toHaveAttribute('value', '100');
    await expect(page.locator('[data-testid="upload-percent"]')).toHaveText('100%');
    await page.locator('[data-testid="upload-done"] a').click();
    await expect(page).toHaveURL(new RegExp(`/c/${user}/web/uploaded$`));
    await appReady(page);
    await expect(page.locator('.tag-row .tag-name').first()).toHaveText('v1');
    await expect(page.locator('.image .sha').first()).toHaveText(/^[0-9a-f]{64}$/);
    await expect(page.locator('[data-testid="fingerprint"]').first()).toHaveText(/^[0-9A-F]{40}$/);
  });

  test('private content: invisible to anonymous visitors, shown to its owner', async ({ page }) => {
    test.skip(!privateContainer, 'SILO_E2E_PRIVATE_CONTAINER not set');
    const [entity, collection] = privateContainer.split('/');
    const collectionLink = `a[href="/c/${entity}/${collection}"]`;
    const containerLink = `a[href="/c/${privateContainer}"]`;

    for (const url of [`/c/${entity}/${collection}`, `/c/${privateContainer}`]) {
      await page.goto(url);
      await appReady(page);
      await expect(page.locator('[data-status="404"]')).toBeVisible();
      await expect(page.locator('h1.path-title')).toHaveCount(0);
    }
    await page.goto('/collections');
    await appReady(page);
    await expect(page.locator('.collection-card').first()).toBeVisible();
    await expect(page.locator(collectionLink)).toHaveCount(0);
    await page.goto('/');
    await appReady(page);
    await expect(page.locator('.stats')).toBeVisible();
    await expect(page.locator(containerLink)).toHaveCount(0);

    await signIn(page);
    await page.goto('/collections');
    await appReady(page);
    await expect(page.locator(collectionLink).first()).toBeVisible();
    await page.goto('/');
    await appReady(page);
    await expect(page.locator(containerLink).first()).toBeVisible();
    await page.goto(`/c/${privateContainer}`);
    await appReady(page);
    await expect(page.locator('h1.path-title')).toContainText('private');
    await expect(page.locator('.image .sha').first()).toHaveText(/^[0-9a-f]{64}$/);
  });
});
