// Teams and roles in the web interface: alice creates a team, adds bob, makes a robot with a
// token (shown once, then revoked), and grants the team the reader role on her private
// collection; bob, signed in in his own browser context, then sees the collection, and no
// longer once alice revokes the role.
//
// Needs (set by end2end/run-spa.sh): SILO_URL, SILO_E2E_USER + SILO_E2E_TOKEN (alice),
// SILO_E2E_MEMBER + SILO_E2E_MEMBER_TOKEN (bob), SILO_E2E_PRIVATE_CONTAINER (a container in a
// private collection of alice's).
import { test, expect, type Browser, type Page } from '@playwright/test';

const owner = process.env.SILO_E2E_USER || '';
const ownerToken = process.env.SILO_E2E_TOKEN || '';
const member = process.env.SILO_E2E_MEMBER || '';
const memberToken = process.env.SILO_E2E_MEMBER_TOKEN || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

/** A page in a fresh browser context, signed in as `user`. */
async function signedIn(browser: Browser, user: string, token: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/login');
  await appReady(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('[data-testid="signed-in-user"]')).toHaveText(user);
  return page;
}

test.describe('Teams and roles', () => {
  test.beforeAll(() => {
    expect(owner && ownerToken && member && memberToken, 'set SILO_E2E_USER/TOKEN and SILO_E2E_MEMBER/MEMBER_TOKEN').toBeTruthy();
    expect(privateContainer.split('/')).toHaveLength(3);
  });

  test('a team role on a private collection reaches team members until it is revoked', async ({ browser }) => {
    const [entity, collection] = privateContainer.split('/');
    const collectionPath = `/c/${entity}/${collection}`;
    const team = `lab${Date.now() % 1_000_000}`;

    // alice creates the team from the header's Teams link.
    const a = await signedIn(browser, owner, ownerToken);
    await a.locator('.site-header').getByRole('link', { name: 'Teams' }).click();
    await expect(a).toHaveURL(/\/teams$/);
    await appReady(a);
    await a.getByLabel('Team name', { exact: true }).fill(team);
    await a.getByLabel('Description', { exact: true }).fill('End-to-end test team');
    await a.getByRole('button', { name: 'Create team' }).click();
    await expect(a).toHaveURL(new RegExp(`/teams/${team}$`));
    await appReady(a);
    const ownerRow = a.locator(`[data-testid="team-member"][data-member="${owner}"]`);
    await expect(ownerRow.locator('select')).toHaveValue('owner');
    // The last owner has no "Leave" button.
    await expect(ownerRow.getByRole('button')).toHaveCount(0);

    // The last owner cannot step down either: the change is refused and the role stays.
    await ownerRow.locator('select').selectOption('member');
    await expect(a.locator('[data-testid="team-error"]')).toContainText('at least one owner');
    await expect(ownerRow.locator('select')).toHaveValue('owner');

    // ...adds bob as a member.
    await a.getByLabel('User name', { exact: true }).fill(member);
    await a.getByRole('button', { name: 'Add member' }).click();
    const memberRow = a.locator(`[data-testid="team-member"][data-member="${member}"]`);
    await expect(memberRow.locator('select')).toHaveValue('member');
    await expect(a.locator('[data-testid="team-error"]')).toHaveCount(0);
    // A user who does not exist is a clear error.
    await a.getByLabel('User name', { exact: true }).fill('no-such-user');
    await a.getByRole('button', { name: 'Add member' }).click();
    await expect(a.locator('[data-testid="team-error"]')).toContainText('not found');

    // ...makes a CI robot for the team, with a token shown once, and revokes the token.
    await a.getByLabel('Robot label', { exact: true }).fill('ci');
    await a.getByRole('button', { name: 'Create robot' }).click();
    const robot = a.locator(`[data-testid="robot"][data-robot="${team}-bot-ci"]`);
    await expect(robot).toBeVisible();
    await expect(a.locator(`[data-testid="team-member"][data-member="${team}-bot-ci"]`)).toBeVisible();
    await robot.getByLabel('Token label', { exact: true }).fill('gitlab');
    // A label wrapping a <select> also names the selected option: find selects by name.
    await robot.locator('select[name="scope"]').selectOption('push');
    await robot.getByRole('button', { name: 'Create token' }).click();
    await expect(robot.locator('.secret-once')).toContainText('silo_');
    const tokenRow = robot.locator('[data-testid="robot-token"]', { hasText: 'gitlab' });
    await expect(tokenRow).toContainText('active');
    await tokenRow.getByRole('button', { name: 'Revoke' }).click();
    await expect(tokenRow).toContainText('revoked');

    // bob cannot see alice's private collection yet.
    const b = await signedIn(browser, member, memberToken);
    await b.goto(collectionPath);
    await appReady(b);
    await expect(b.locator('[data-status="404"]')).toBeVisible();

    // alice grants the team the reader role from the collection's Access panel.
    await a.goto(collectionPath);
    await appReady(a);
    const panel = a.locator('[data-testid="access-panel"]');
    await expect(panel).toBeVisible();
    await panel.locator('select[name="holder-kind"]').selectOption('team');
    await panel.getByLabel('Name', { exact: true }).fill(team);
    await panel.locator('select[name="role"]').selectOption('reader');
    await panel.getByRole('button', { name: 'Grant' }).click();
    const roleRow = panel.locator(`[data-testid="role-row"][data-holder="team:${team}"]`);
    await expect(roleRow.locator('[data-testid="role-name"]')).toHaveText('reader');

    // bob now sees the collection and its container, but no Access panel (readers do not manage).
    await b.reload();
    await appReady(b);
    await expect(b.locator(`a[href="/c/${privateContainer}"]`)).toBeVisible();
    await expect(b.locator('[data-testid="access-panel"]')).toHaveCount(0);

    // alice revokes; bob's next request no longer finds the collection.
    await roleRow.getByRole('button', { name: 'Revoke' }).click();
    await expect(roleRow).toHaveCount(0);
    await b.reload();
    await appReady(b);
    await expect(b.locator('[data-status="404"]')).toBeVisible();
    await expect(b.locator(`a[href="/c/${privateContainer}"]`)).toHaveCount(0);
  });
});
