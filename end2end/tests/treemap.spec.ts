// The storage treemap (/treemap): drill-down registry → entity → collection → container with
// the breadcrumb back up, hover details, click-through, deep links, the colour toggle, private
// content hidden from anonymous visitors, and the live update after a real push made by
// Apptainer's Go library client (end2end/pushdriver) while the page is open.
//
// Needs SILO_URL and SILO_E2E_CONTAINER (a public container with an uploaded image), and for
// the live update SILO_E2E_PUSHDRIVER (the built push driver), SILO_E2E_TOKEN (a token of the
// container's entity owner) and SILO_E2E_PUSH_SIF (a SIF file); run-spa.sh provides them all.
// Optional: SILO_E2E_PRIVATE_CONTAINER, a container in a private collection.
import { test, expect, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const containerPath = process.env.SILO_E2E_CONTAINER || '';
const privateContainer = process.env.SILO_E2E_PRIVATE_CONTAINER || '';
const pushDriver = process.env.SILO_E2E_PUSHDRIVER || '';
const pushToken = process.env.SILO_E2E_TOKEN || '';
const pushSif = process.env.SILO_E2E_PUSH_SIF || '';
const [entity, collection, container] = containerPath.split('/');

async function appReady(page: Page) {
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
}

/** The treemap's drawing area, once it has drawn at least once. */
async function stage(page: Page) {
  const el = page.locator('.tm-stage');
  await expect(el).toHaveAttribute('data-renders', /^[1-9]\d*$/);
  return el;
}

function tile(page: Page, kind: string, name: string) {
  return page.locator(`.tm-tile[data-kind="${kind}"][data-name="${name}"]`);
}

async function renders(page: Page): Promise<number> {
  return Number(await page.locator('.tm-stage').getAttribute('data-renders'));
}

test.describe('storage treemap', () => {
  test.beforeAll(() => {
    expect(containerPath.split('/'), 'set SILO_E2E_CONTAINER=entity/collection/container').toHaveLength(3);
  });

  test('drill down through every level, breadcrumb back up, open a container', async ({ page }) => {
    await page.goto('/');
    await appReady(page);
    await page.locator('.site-nav').getByRole('link', { name: 'Treemap' }).click();
    await expect(page).toHaveURL(/\/treemap$/);
    await stage(page);
    const ms = Number(await page.locator('.tm-stage').getAttribute('data-render-ms'));
    expect(ms).toBeGreaterThanOrEqual(0);

    // Registry → entity.
    await tile(page, 'entity', entity).click();
    await expect(page).toHaveURL(new RegExp(`/treemap/${entity}$`));
    // Entity → collection.
    await tile(page, 'collection', collection).click();
    await expect(page).toHaveURL(new RegExp(`/treemap/${entity}/${collection}$`));
    const leaf = tile(page, 'container', container);
    await expect(leaf).toBeVisible();

    // Hover details: name, human size, image count.
    await leaf.hover();
    const tip = page.locator('.tm-tip');
    await expect(tip).toBeVisible();
    await expect(tip.locator('.tm-tip-name')).toHaveText(container);
    await expect(tip.locator('.tm-tip-size')).toHaveText(/^\d+(\.\d)? (B|KiB|MiB|GiB)$/);
    await expect(tip.locator('.tm-tip-count')).toHaveText(/^\d+ images?$/);

    // Breadcrumb back up, one level at a time.
    const crumbs = page.locator('.tm-crumbs');
    await expect(crumbs.locator('[aria-current="page"]')).toHaveText(collection);
    await crumbs.getByRole('link', { name: entity }).click();
    await expect(page).toHaveURL(new RegExp(`/treemap/${entity}$`));
    await tile(page, 'collection', collection).hover();
    await expect(page.locator('.tm-tip .tm-tip-count')).toHaveText(/^\d+ containers?$/);
    await crumbs.getByRole('link', { name: 'Registry' }).click();
    await expect(page).toHaveURL(/\/treemap$/);
    await expect(tile(page, 'entity', entity)).toBeVisible();

    // Keyboard: focus the entity tile, Enter drills down; then open the container by click.
    await tile(page, 'entity', entity).focus();
    await expect(page.locator('.tm-tip .tm-tip-name')).toHaveText(entity);
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(new RegExp(`/treemap/${entity}$`));
    await tile(page, 'collection', collection).click();
    await tile(page, 'container', container).click();
    await expect(page).toHaveURL(new RegExp(`/c/${entity}/${collection}/${container}$`));
    await expect(page.locator('h1')).toContainText(container);
  });

  test('deep link survives a reload; colour toggle recolours', async ({ page }) => {
    await page.goto(`/treemap/${entity}/${collection}`);
    await appReady(page);
    await stage(page);
    await page.reload();
    await appReady(page);
    await stage(page);
    const rect = tile(page, 'container', container).locator('rect').first();
    await expect(rect).toBeVisible();

    const byEntity = page.getByRole('button', { name: 'entity', exact: true });
    const byAge = page.getByRole('button', { name: 'age', exact: true });
    await expect(byEntity).toHaveAttribute('aria-pressed', 'true');
    const before = await rect.getAttribute('fill');
    const drawn = await renders(page);
    await byAge.click();
    await expect(byAge).toHaveAttribute('aria-pressed', 'true');
    await expect(page.locator('.tm-stage')).toHaveAttribute('data-colour', 'age');
    await expect.poll(() => renders(page)).toBeGreaterThan(drawn);
    const after = await tile(page, 'container', container).locator('rect').first().getAttribute('fill');
    expect(after).not.toEqual(before);
    await expect(page.locator('.tm-legend')).toBeVisible();
  });

  test('private containers are not in the anonymous treemap', async ({ page }) => {
    test.skip(!privateContainer, 'no SILO_E2E_PRIVATE_CONTAINER');
    const [pEntity, pCollection, pContainer] = privateContainer.split('/');
    await page.goto(`/treemap/${pEntity}`);
    await appReady(page);
    await stage(page);
    await expect(tile(page, 'collection', collection).or(tile(page, 'entity', pEntity)).first()).toBeVisible();
    await expect(tile(page, 'collection', pCollection)).toHaveCount(0);
    await page.goto(`/treemap/${pEntity}/${pCollection}`);
    await appReady(page);
    await expect(page.getByText('Nothing to show here')).toBeVisible();
    await expect(tile(page, 'container', pContainer)).toHaveCount(0);
    // Nor is it in the data the page received.
    const answer = await page.request.post('/rpc/treemap', { form: {} });
    expect(answer.ok()).toBeTruthy();
    expect(await answer.text()).not.toContain(`"${pCollection}"`);
  });

  test('a push with the real client appears without a reload', async ({ page }) => {
    expect(pushDriver, 'SILO_E2E_PUSHDRIVER: run through end2end/run-spa.sh').toBeTruthy();
    expect(pushToken && pushSif, 'SILO_E2E_TOKEN and SILO_E2E_PUSH_SIF').toBeTruthy();
    const fresh = `live${Date.now().toString(36)}`;
    await page.goto(`/treemap/${entity}`);
    await appReady(page);
    await stage(page);
    await expect(tile(page, 'collection', collection)).toBeVisible();
    await expect(tile(page, 'collection', fresh)).toHaveCount(0);
    const drawn = await renders(page);
    // Mark the document: a reload would lose the mark.
    await page.evaluate(() => ((window as unknown as { treemapMark: string }).treemapMark = 'same page'));

    const run = promisify(execFile);
    const base = process.env.SILO_URL || 'http://127.0.0.1:8080';
    const started = Date.now();
    const { stdout } = await run(pushDriver, [
      '-url', base, '-token', pushToken, '-ref', `${entity}/${fresh}/image:latest`, '-file', pushSif,
    ]);
    expect(stdout).toContain(`pushed ${entity}/${fresh}/image:latest`);

    await expect(tile(page, 'collection', fresh)).toBeVisible({ timeout: 15_000 });
    console.log(`treemap redraw after push: ${Date.now() - started} ms after the push started; ` +
      `last layout+draw ${await page.locator('.tm-stage').getAttribute('data-render-ms')} ms`);
    expect(await renders(page)).toBeGreaterThan(drawn);
    expect(await page.evaluate(() => (window as unknown as { treemapMark?: string }).treemapMark)).toBe('same page');
    // Its container is there one level down, and opens its page.
    await tile(page, 'collection', fresh).click();
    await tile(page, 'container', 'image').click();
    await expect(page).toHaveURL(new RegExp(`/c/${entity}/${fresh}/image$`));
  });
});
