// Browser tests of Silo's web interface, against a running `silo serve` (SILO_URL).
// @playwright/test is installed in end2end/ (`PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci` there);
// this file imports nothing so it loads from the repository root as well. Run:
//   SILO_URL=http://127.0.0.1:18090 SILO_E2E_CONTAINER=alice/e2e/hello npm --prefix end2end test
// The browser is the system Chromium: never run `npx playwright install`.
const baseURL = process.env.SILO_URL || 'http://127.0.0.1:8080';

export default {
  testDir: './end2end/tests',
  outputDir: './end2end/test-results',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1280, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
};
