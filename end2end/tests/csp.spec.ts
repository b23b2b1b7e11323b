// The web interface under Silo's Content-Security-Policy: the page carries the policy, the
// WASM app starts, and no page (home, lists, a container with its charts, the treemap, the
// REST API docs) triggers a single CSP violation.
//
// Needs SILO_URL and SILO_E2E_CONTAINER (`entity/collection/container`), like spa.spec.ts.
import { test, expect, type Page } from '@playwright/test';

const containerPath = process.env.SILO_E2E_CONTAINER || '';

/** Records every `securitypolicyviolation` event of every document the page loads. */
async function recordViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('__cspViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (window as any).__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) violations.push(`console: ${msg.text()}`);
  });
  return violations;
}

test('the SPA runs under the Content-Security-Policy without violations', async ({ page }) => {
  const violations = await recordViolations(page);
  const response = await page.goto('/');
  const policy = response?.headers()['content-security-policy'] || '';
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(response?.headers()['x-frame-options']).toBe('DENY');
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();

  const pages = ['/collections', '/treemap', '/api/docs'];
  if (containerPath) pages.push(`/c/${containerPath}`);
  for (const path of pages) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  await page.goto('/');
  await expect(page.locator('main#silo-app[data-ready="true"]')).toBeVisible();
  expect(violations).toEqual([]);
});
