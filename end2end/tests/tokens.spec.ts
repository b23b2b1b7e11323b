// The tokens page and share links in the browser: a signed-out visitor is sent to sign in and
// back; a signed-in user creates a token at /auth/tokens, pushes an image with it through
// Apptainer's own Go library client (end2end/pushdriver), revokes it on the page, and the next
// push is refused. The owner of a private container shares it with a link, which an anonymous
// browser opens and downloads from until the owner revokes it.
//
// Needs (set by end2end/run-spa.sh): SILO_URL, SILO_E2E_USER and SILO_E2E_TOKEN (a user and an
// API token of theirs), SILO_E2E_PUSHDRIVER (the built push driver), SILO_E2E_PUSH_SIF (a SIF
// image) and SILO_E2E_PRIVATE_CONTAINER (a container in a private collection of that user).
import { test, expect, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const user = process.env.SILO_E2E_USER || '';
const token = process.env.SILO_E2E_TOKEN || '';
const pushDriver = process.env.SILO_E2E_PUSHDRIVER || '';
const pushSif = process.env.SILO_E2E_PUSH_SIF || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const base = process.env.SILO_URL || 'http://127.0.0.1:8080';
const run = promisify(execFile);

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

async function signInHere(page: Page) {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
}

/** Pushes the test image with the real library client; resolves to its exit code and output. */
async function push(secret: string, ref: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(pushDriver, ['-url', base, '-token', secret, '-ref', ref, '-file', pushSif]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test.describe('Tokens page and share links', () => {
  test.beforeAll(() => {
    expect(user && token, 'set SILO_E2E_USER and SILO_E2E_TOKEN').toBeTruthy();
  });

  test('signed-out visitors are sent to sign in and back', async ({ page }) => {
    await page.goto('/auth/tokens');
    await expect(page).toHaveURL(/\/login\?return_to=\/auth\/tokens$/);
    await appReady(page);
    await signInHere(page);
    await expect(page).toHaveURL(/\/auth\/tokens$/);
    await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
    // The account menu links here.
    await page.goto('/');
    await appReady(page);
    await page.locator('[data-testid="tokens-link"]').click();
    await expect(page).toHaveURL(/\/auth\/tokens$/);
  });

  test('create a token, push with it, revoke it, and the next push is refused', async ({ page }) => {
    expect(pushDriver, 'SILO_E2E_PUSHDRIVER: run through end2end/run-spa.sh').toBeTruthy();
    expect(pushSif, 'SILO_E2E_PUSH_SIF').toBeTruthy();
    await page.goto('/login?return_to=/auth/tokens');
    await appReady(page);
    await signInHere(page);
    await expect(page).toHaveURL(/\/auth\/tokens$/);

    const label = `e2e-${Date.now().toString(36)}`;
    await page.locator('[data-testid="token-label"]').fill(label);
    await page.locator('[data-testid="token-scope"]').selectOption('push');
    await page.locator('[data-testid="token-expiry"]').selectOption('30');
    await page.locator('[data-testid="create-token"]').click();
    const card = page.locator('[data-testid="new-token"]');
    await expect(card).toBeVisible();
    await expect(card).toContainText('shown only this once');
    await expect(card).toContainText('apptainer remote login --tokenfile');
    const secret = (await card.getAttribute('data-secret')) || '';
    expect(secret).toMatch(/^silo_[A-Za-z0-9]{200,}$/);
    const row = page.locator(`[data-testid="token-row"][data-label="${label}"]`);
    await expect(row).toHaveAttribute('data-status', 'active');
    await expect(row).toContainText('push');
    await expect(row).toContainText('never used');

    const ref = `${user}/tokens-e2e/${label}:latest`;
    const first = await push(secret, ref);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`pushed ${user}/tokens-e2e/${label}:latest`);

    // After a reload the secret is gone for good, and the token shows its use.
    await page.reload();
    await appReady(page);
    await expect(page.locator('[data-testid="new-token"]')).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);
    await expect(row).not.toContainText('never used');

    await row.locator('[data-testid="revoke-token"]').click();
    await expect(row).toContainText('Clients using it stop working');
    await row.locator('[data-testid="confirm-revoke"]').click();
    await expect(row).toHaveAttribute('data-status', 'revoked');
    await expect(row.locator('[data-testid="revoke-token"]')).toHaveCount(0);

    const second = await push(secret, `${user}/tokens-e2e/${label}:again`);
    expect(second.code, 'a revoked token must not push').not.toBe(0);
    expect(second.output).toMatch(/401|[Uu]nauthori[sz]ed|authenticat/);
    const status = await page.request.get('/v1/token-status', { headers: { Authorization: `Bearer ${secret}` } });
    expect(status.status()).toBe(401);
  });

  test('share a private container with a link, then revoke it', async ({ page, browser }) => {
    expect(privateContainer.split('/'), 'SILO_E2E_PRIVATE_CONTAINER').toHaveLength(3);
    await page.goto(`/login?return_to=/c/${privateContainer}`);
    await appReady(page);
    await signInHere(page);
    await expect(page).toHaveURL(new RegExp(`/c/${privateContainer}$`));
    const panel = page.locator('[data-testid="share-panel"]');
    await expect(panel).toBeVisible();
    await panel.locator('[data-testid="share-label"]').fill('for a colleague');
    await panel.locator('[data-testid="share-expiry"]').selectOption('7');
    await panel.locator('[data-testid="create-share"]').click();
    const made = panel.locator('[data-testid="new-share"]');
    await expect(made).toContainText('curl -fL');
    await expect(made).toContainText('apptainer pull shub://');
    const url = (await made.getAttribute('data-url')) || '';
    expect(url).toMatch(/\/share\/silos_[A-Za-z0-9]+$/);
    await expect(panel.locator('[data-testid="share-row"]').first()).toHaveAttribute('data-status', 'active');

    // Someone without an account opens the link and downloads the image.
    const stranger = await browser.newContext();
    const theirs = await stranger.newPage();
    await theirs.goto(url);
    await appReady(theirs);
    await expect(theirs.locator('[data-testid="shared-path"]')).toContainText(privateContainer);
    const firstTag = theirs.locator('[data-testid="shared-tag"]').first();
    const tag = (await firstTag.getAttribute('data-tag')) || '';
    const href = (await firstTag.locator('[data-testid="share-download"]').getAttribute('href')) || '';
    expect(href).toContain(`/download?tag=${tag}`);
    const bytes = await theirs.request.get(href);
    expect(bytes.status()).toBe(200);
    // The same bytes the owner pulls through the library API.
    const owners = await theirs.request.get(`/v1/imagefile/${privateContainer}:${tag}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(owners.status()).toBe(200);
    const got = await bytes.body();
    expect(got.length).toBeGreaterThan(0);
    expect(got.equals(await owners.body())).toBeTruthy();
    // Without the link the stranger sees nothing.
    expect((await theirs.request.get(`/v1/imagefile/${privateContainer}:${tag}`)).status()).toBe(404);

    await panel.locator('[data-testid="revoke-share"]').first().click();
    await panel.locator('[data-testid="confirm-revoke-share"]').click();
    await expect(panel.locator('[data-testid="share-row"]').first()).toHaveAttribute('data-status', 'revoked');
    const gone = await theirs.request.get(href);
    expect(gone.status()).toBe(404);
    await theirs.reload();
    await appReady(theirs);
    await expect(theirs.locator('[data-testid="shared-path"]')).toHaveCount(0);
    await expect(theirs.getByText(/not found|expired|revoked/i).first()).toBeVisible();
    await stranger.close();
  });
});
