// The administration pages: an administrator signs in, finds a user, disables them (their
// API token stops working at once, for the library API and for Apptainer's own Go library
// client), enables them again, renames the registry (the header shows it), and reads these
// actions in the audit log. Non-administrators get the no-access page.
//
// Needs (set by end2end/run-spa.sh): SILO_URL, SILO_E2E_ADMIN and SILO_E2E_ADMIN_TOKEN (an
// administrator and an admin-scoped token), SILO_E2E_VICTIM and SILO_E2E_VICTIM_TOKEN (a plain
// user and a push token of theirs), SILO_E2E_USER and SILO_E2E_TOKEN (another plain user),
// SILO_E2E_CENTRE_NAME (the configured name), and for the real client SILO_E2E_PUSHDRIVER
// and SILO_E2E_PUSH_SIF.
import { test, expect, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const base = process.env.SILO_URL || 'http://127.0.0.1:8080';
const admin = process.env.SILO_E2E_ADMIN || '';
const adminToken = process.env.SILO_E2E_ADMIN_TOKEN || '';
const victim = process.env.SILO_E2E_VICTIM || '';
const victimToken = process.env.SILO_E2E_VICTIM_TOKEN || '';
const plainUser = process.env.SILO_E2E_USER || '';
const plainToken = process.env.SILO_E2E_TOKEN || '';
const centre = process.env.SILO_E2E_CENTRE_NAME || '';
const pushDriver = process.env.SILO_E2E_PUSHDRIVER || '';
const pushSif = process.env.SILO_E2E_PUSH_SIF || '';

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

async function signIn(page: Page, user: string, token: string) {
  await page.goto('/login');
  await appReady(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
}

/** `GET /v1/token-status` with a bearer token: 200 for a working token, 401 otherwise. */
async function tokenStatus(page: Page, token: string): Promise<number> {
  const answer = await page.request.get(`${base}/v1/token-status`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return answer.status();
}

/** Pushes with Apptainer's Go library client; resolves to its exit code and output. */
async function realPush(token: string, ref: string): Promise<{ ok: boolean; output: string }> {
  expect(pushSif, 'SILO_E2E_PUSH_SIF').toBeTruthy();
  const run = promisify(execFile);
  try {
    const { stdout, stderr } = await run(pushDriver, [
      '-url', base, '-token', token, '-ref', ref, '-file', pushSif, '-timeout', '30s',
    ]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function userRow(page: Page, name: string) {
  return page.locator(`tr[data-user="${name}"]`);
}

test.describe('Administration', () => {
  test.beforeAll(() => {
    expect(admin && adminToken && victim && victimToken, 'run through end2end/run-spa.sh').toBeTruthy();
  });

  test('non-administrators get the no-access page and no admin link', async ({ page }) => {
    await signIn(page, plainUser, plainToken);
    await expect(page.locator('[data-testid="admin-link"]')).toHaveCount(0);
    await page.goto('/admin/users');
    await appReady(page);
    await expect(page.locator('section.noaccess[data-status="403"]')).toBeVisible();
    await expect(page.locator('table.admin-users')).toHaveCount(0);
    // The server function refuses too, whatever the page shows.
    const answer = await page.request.post('/rpc/admin_users', {
      form: { search: '', page: '1' },
      headers: { Origin: base },
    });
    expect(answer.status()).toBe(403);
  });

  test('disable a user: their token stops working at once; enable them again', async ({ page }) => {
    expect(await tokenStatus(page, victimToken)).toBe(200);
    await signIn(page, admin, adminToken);
    await page.locator('[data-testid="admin-link"]').click();
    await expect(page).toHaveURL(/\/admin$/);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).click();
    await expect(page.locator('table.admin-users')).toBeVisible();

    await page.getByLabel('Name or e-mail').fill(victim.slice(0, 4));
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/users\\?q=${victim.slice(0, 4)}`));
    const row = userRow(page, victim);
    await expect(row).toBeVisible();
    await expect(userRow(page, admin)).toHaveCount(0);
    await expect(row).toHaveAttribute('data-active', 'true');

    await row.locator('[data-testid="toggle-active"]').click();
    await expect(page.locator('[data-testid="admin-ok"]')).toContainText(`${victim} is disabled`);
    await expect(userRow(page, victim)).toHaveAttribute('data-active', 'false');
    expect(await tokenStatus(page, victimToken)).toBe(401);
    if (pushDriver) {
      const push = await realPush(victimToken, `${victim}/refused/image:latest`);
      expect(push.ok, push.output).toBe(false);
      expect(push.output).toMatch(/401|nauthori|token/i);
    }

    await userRow(page, victim).locator('[data-testid="toggle-active"]').click();
    await expect(page.locator('[data-testid="admin-ok"]')).toContainText(`${victim} is enabled`);
    await expect(userRow(page, victim)).toHaveAttribute('data-active', 'true');
    expect(await tokenStatus(page, victimToken)).toBe(200);
  });

  test('rename the registry in the settings and see it in the header', async ({ page }) => {
    const renamed = `Renamed Centre ${Date.now().toString(36)}`;
    await signIn(page, admin, adminToken);
    await page.goto('/admin/settings');
    await appReady(page);
    const branding = page.locator('[data-testid="branding-settings"]');
    await expect(branding).toBeVisible();
    // The configured name shows as the placeholder of the empty override field.
    const name = branding.getByLabel('Name', { exact: true });
    await expect(name).toHaveAttribute('placeholder', centre);
    try {
      await name.fill(renamed);
      await branding.getByRole('button', { name: 'Save branding' }).click();
      await expect(branding.locator('[data-testid="admin-ok"]')).toHaveText('Branding saved.');
      await expect(page.locator('.site-header .brand-name')).toHaveText(renamed);
      await page.goto('/');
      await appReady(page);
      await expect(page.locator('.site-header .brand-name')).toHaveText(renamed);
      await expect(page).toHaveTitle(new RegExp(renamed));
    } finally {
      // Back to the configured name, for the other specs.
      await page.goto('/admin/settings');
      await appReady(page);
      await name.fill('');
      await branding.getByRole('button', { name: 'Save branding' }).click();
      await expect(branding.locator('[data-testid="admin-ok"]')).toHaveText('Branding saved.');
    }
    await expect(page.locator('.site-header .brand-name')).toHaveText(centre);
  });

  test('the audit log lists these actions with their actor', async ({ page }) => {
    await signIn(page, admin, adminToken);
    await page.goto('/admin/audit');
    await appReady(page);
    const table = page.locator('table.admin-audit');
    await expect(table).toBeVisible();
    for (const action of ['user.disable', 'user.enable']) {
      const line = table.locator(`tr[data-action="${action}"][data-target="user:${victim}"]`).first();
      await expect(line).toBeVisible();
      await expect(line.locator('td').nth(1)).toHaveText(admin);
    }
    await expect(table.locator('tr[data-action="branding.update"]').first()).toBeVisible();
    // Newest first: the last branding change is above the disable.
    const actions = await table.locator('tbody tr').evaluateAll((rows) =>
      rows.map((r) => r.getAttribute('data-action')),
    );
    expect(actions.indexOf('branding.update')).toBeLessThan(actions.indexOf('user.disable'));
  });
});
