// Several sign-in backends side by side in one Silo (issue 6): a GitLab provider, an OpenID
// Connect provider and an LDAP directory, all configured in the same config file by
// end2end/run-oauth.sh, which sets SILO_E2E_OIDC_ISSUER, SILO_E2E_GITLAB_URL and
// SILO_E2E_LDAP (1 when its slapd runs).
//   GitLab: a STAND-IN (end2end/oidc/gitlab-standin.mjs; no real GitLab is reachable here),
//           `[[auth.oauth]]` id "gitlab"; its one person is margaret.
//   OIDC:   the real oidc-provider (end2end/oidc/provider.mjs), id "testidp" ("Test IdP");
//           ada / ada-password.
//   LDAP:   a real slapd with server/tests/fixtures/ldap/directory.ldif ("Test directory");
//           bob / bob-password.
import { test, expect, type Browser, type Page } from '@playwright/test';

const issuer = process.env.SILO_E2E_OIDC_ISSUER || '';
const gitlab = process.env.SILO_E2E_GITLAB_URL || '';
const ldap = process.env.SILO_E2E_LDAP === '1';
const silo = process.env.SILO_URL || '';

test.skip(!issuer || !gitlab, 'needs the providers: run end2end/run-oauth.sh');

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

async function viewer(page: Page) {
  const reply = await page.request.post('/rpc/viewer', {
    headers: { origin: silo, accept: 'application/json' },
  });
  expect(reply.ok()).toBeTruthy();
  return reply.json();
}

/** A fresh browser context (no cookies) on the login page. */
async function freshLoginPage(browser: Browser, next = '/about') {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/login?next=${next}`);
  await appReady(page);
  return { context, page };
}

async function signedInAs(page: Page, username: string, path = '/about') {
  await expect(page).toHaveURL(`${silo}${path}`);
  await appReady(page);
  await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(username);
  const me = await viewer(page);
  expect(me.username).toBe(username);
  return me;
}

test.describe('GitLab, OpenID Connect and LDAP side by side', () => {
  test('the login page offers all three', async ({ page }) => {
    await page.goto('/login?next=/about');
    await appReady(page);
    const providers = page.locator('[data-testid="sign-in-providers"]');
    const gitlabButton = providers.getByRole('link', { name: 'Sign in with GitLab' });
    await expect(gitlabButton).toBeVisible();
    await expect(gitlabButton).toHaveAttribute('href', '/auth/login/gitlab?return_to=/about');
    const oidcButton = providers.getByRole('link', { name: 'Sign in with Test IdP' });
    await expect(oidcButton).toBeVisible();
    await expect(oidcButton).toHaveAttribute('href', '/auth/login/testidp?return_to=/about');
    await expect(providers.getByRole('link')).toHaveCount(2);
    const form = page.locator('[data-testid="ldap-form"]');
    if (ldap) {
      await expect(form).toBeVisible();
      await expect(form.getByRole('heading', { name: 'Test directory' })).toBeVisible();
      await expect(form.getByRole('button', { name: 'Log in with Test directory' })).toBeVisible();
    } else {
      await expect(form).toHaveCount(0);
    }
  });

  test('GitLab (stand-in): authorize, land back signed in', async ({ browser }) => {
    const { context, page } = await freshLoginPage(browser);
    await page.getByRole('link', { name: 'Sign in with GitLab' }).click();
    await expect(page).toHaveURL(new RegExp(`^${gitlab}/oauth/authorize\\?`));
    await expect(page.getByRole('heading', { name: 'GitLab stand-in' })).toBeVisible();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const me = await signedInAs(page, 'margaret');
    expect(me.is_admin).toBe(false); // her groups (read from /api/v4/groups) are not admin_groups
    await context.close();
  });

  test('OpenID Connect: sign in and consent at the provider, land back signed in', async ({ browser }) => {
    const { context, page } = await freshLoginPage(browser);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('ada-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    const me = await signedInAs(page, 'ada');
    expect(me.is_admin).toBe(true);
    await context.close();
  });

  test.describe('LDAP', () => {
    test.skip(!ldap, 'slapd is not installed (run-oauth.sh said so)');

    test('the directory form signs in', async ({ browser }) => {
      const { context, page } = await freshLoginPage(browser);
      const form = page.locator('[data-testid="ldap-form"]');
      await form.getByLabel('Login').fill('bob');
      await form.getByLabel('Password').fill('bob-password');
      await form.getByRole('button', { name: 'Log in with Test directory' }).click();
      const me = await signedInAs(page, 'bob');
      expect(me.is_admin).toBe(false); // bob is not in registry-admins
      await context.close();
    });

    test('a wrong password ends on the login page with the error', async ({ browser }) => {
      const { context, page } = await freshLoginPage(browser);
      const form = page.locator('[data-testid="ldap-form"]');
      await form.getByLabel('Login').fill('carol');
      await form.getByLabel('Password').fill('not-her-password');
      await form.getByRole('button', { name: 'Log in with Test directory' }).click();
      await expect(page).toHaveURL(/\/login\?error=.*next=/);
      await appReady(page);
      await expect(page.locator('[data-testid="login-error"]')).toHaveText(
        'the user name or the password is not valid',
      );
      await expect(page.locator('.site-header').getByRole('link', { name: 'Sign in' })).toBeVisible();
      expect(await viewer(page)).toBeNull();
      // The three options are still offered after the failure.
      await expect(page.locator('[data-testid="ldap-form"]')).toBeVisible();
      await expect(page.getByRole('link', { name: 'Sign in with GitLab' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Sign in with Test IdP' })).toBeVisible();
      await context.close();
    });
  });
});
