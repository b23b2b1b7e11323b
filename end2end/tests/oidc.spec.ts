// OpenID Connect sign-in against a real OpenID provider (panva's oidc-provider on loopback,
// end2end/oidc/provider.mjs), started with Silo by end2end/run-oauth.sh, which sets
// SILO_E2E_OIDC_ISSUER. Silo's config names it `testidp` ("Test IdP") with
// admin_groups = ["registry-admins"]. People: ada (in registry-admins), grace (not).
import { test, expect, type Page } from '@playwright/test';

const issuer = process.env.SILO_E2E_OIDC_ISSUER || '';
const silo = process.env.SILO_URL || '';

test.skip(!issuer, 'needs the OpenID provider: run end2end/run-oauth.sh');

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

/** At the provider: sign in, then allow Silo on the consent page. */
async function atProvider(page: Page, login: string, password: string, consent: 'Allow' | 'Deny' = 'Allow') {
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Authorize' })).toBeVisible();
  await expect(page.getByText('Scopes: openid email profile groups')).toBeVisible();
  await page.getByRole('button', { name: consent }).click();
}

async function viewer(page: Page) {
  const reply = await page.request.post('/rpc/viewer', {
    headers: { origin: silo, accept: 'application/json' },
  });
  expect(reply.ok()).toBeTruthy();
  return reply.json();
}

async function loginError(page: Page) {
  await expect(page).toHaveURL(/\/login\?error=/);
  await appReady(page);
  const error = page.locator('[data-testid="login-error"]');
  await expect(error).toBeVisible();
  await expect(page.locator('.site-header').getByRole('link', { name: 'Sign in' })).toBeVisible();
  expect((await viewer(page))).toBeNull();
  return error;
}

test.describe('OpenID Connect sign-in', () => {
  test('the login page offers the provider; sign in, consent, land back signed in', async ({ page }) => {
    await page.goto('/login?next=/about');
    await appReady(page);
    const button = page.getByRole('link', { name: 'Sign in with Test IdP' });
    await expect(button).toBeVisible();
    await expect(button).toHaveAttribute('href', '/auth/login/testidp?return_to=/about');
    await button.click();

    await atProvider(page, 'ada', 'ada-password');

    await expect(page).toHaveURL(`${silo}/about`);
    await appReady(page);
    await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText('ada');
    const me = await viewer(page);
    expect(me.username).toBe('ada');
    expect(me.is_admin).toBe(true); // groups claim has registry-admins
    const cookies = await page.context().cookies(silo);
    const session = cookies.find((c) => c.name === 'silo_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
    expect(cookies.find((c) => c.name === 'silo_oauth_state')).toBeUndefined();
  });

  test('a second login reuses the account; another person gets their own, without admin', async ({ browser }) => {
    for (const [login, password, admin] of [['ada', 'ada-password', true], ['grace', 'grace-password', false]] as const) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto('/login');
      await appReady(page);
      await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
      await atProvider(page, login, password);
      await expect(page).toHaveURL(`${silo}/`);
      await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(login);
      const me = await viewer(page);
      expect(me.username).toBe(login); // not "ada-2": linked by provider + subject
      expect(me.is_admin).toBe(admin);
      await context.close();
    }
  });

  test('a wrong password is refused at the provider', async ({ page }) => {
    await page.goto('/auth/login/testidp?return_to=/');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
    await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  });

  test('a tampered callback (wrong state) is refused; the genuine one then works once', async ({ page }) => {
    // Hold the provider's answer: its consent POST redirects (via the provider's resume
    // endpoint) to Silo's callback; follow those redirects by hand and keep the callback URL.
    let resume = '';
    await page.route('**/interaction/*/confirm', async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      resume = answer.headers()['location'] || '';
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>held by the test</p>' });
    });
    await page.goto('/auth/login/testidp?return_to=/about');
    await atProvider(page, 'grace', 'grace-password');
    await expect(page.getByText('held by the test')).toBeVisible();
    const back = await page.request.get(new URL(resume, issuer).toString(), { maxRedirects: 0 });
    const callback = back.headers()['location'] || '';
    expect(callback).toContain(`${silo}/auth/callback/testidp?`);
    expect(callback).toContain('code=');

    const genuine = new URL(callback);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', genuine.searchParams.get('state')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    await page.goto(tampered.toString());
    await expect(await loginError(page)).toContainText('not started in this browser');

    const stateCookie = (await page.context().cookies(callback)).find((c) => c.name === 'silo_oauth_state');
    expect(stateCookie?.value).toBe(genuine.searchParams.get('state'));
    await page.goto(genuine.toString());
    await expect(page).toHaveURL(`${silo}/about`);
    await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText('grace');

    // The same callback again, with the state cookie put back (a replay): the flow was
    // single use.
    await page.context().clearCookies();
    await page.context().addCookies([stateCookie!]);
    await page.goto(genuine.toString());
    await expect(await loginError(page)).toContainText('expired or was tampered with');
  });

  test('an ID token with another nonce is refused', async ({ page }) => {
    const start = await page.request.get('/auth/login/testidp?return_to=/about', { maxRedirects: 0 });
    expect(start.status()).toBe(303);
    const authorize = new URL(start.headers()['location']);
    expect(authorize.origin).toBe(issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    const nonce = authorize.searchParams.get('nonce');
    expect(nonce).toBeTruthy();
    authorize.searchParams.set('nonce', `${nonce}-altered`);
    await page.goto(authorize.toString());
    await atProvider(page, 'ada', 'ada-password');
    await expect(await loginError(page)).toContainText('could not be verified');
    await expect(page.locator('[data-testid="login-error"]')).toContainText('nonce');
  });

  test('denying consent at the provider ends on the login page with its message', async ({ page }) => {
    await page.goto('/auth/login/testidp?return_to=/');
    await atProvider(page, 'grace', 'grace-password', 'Deny');
    await expect(await loginError(page)).toContainText('did not sign you in');
  });
});
