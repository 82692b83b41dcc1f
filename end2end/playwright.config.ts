import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The suite drives the release binary (built by .ci/build-release)
// on a fresh database in a temporary folder, with Debian's Chromium: Playwright never downloads a browser.
const port = Number(process.env.E2E_PORT ?? 3123);
// Made once by the runner; its workers inherit the variable and so read the same mail folder.
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'ticketing-e2e-'));
const dataDir = process.env.E2E_DATA_DIR;

process.env.E2E_FEES_URL ??= `http://127.0.0.1:${port + 1}`;

/** The release binary on `serverPort`, on a database and mail folder of its own. */
function server(serverPort: number, name: string, extra: Record<string, string>) {
  return {
    command: process.env.TICKETING_BIN ?? '../target/release/ticketing',
    url: `http://127.0.0.1:${serverPort}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      DATABASE_URL: `sqlite://${join(dataDir, `${name}.db`)}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${serverPort}`,
      AUTH_RATE_LIMIT: '0',
      // No SMTP server: every message is an .eml file here, which the tests read (helpers.ts).
      MAIL_DIR: join(dataDir, name === 'e2e' ? 'mail' : `mail-${name}`),
      RUST_LOG: 'warn',
      ...extra,
    },
  };
}

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
  projects: [
    { name: 'javascript', use: { javaScriptEnabled: true } },
    { name: 'no-javascript', use: { javaScriptEnabled: false } },
  ],
  webServer: [
    server(port, 'e2e', {}),
    // A second site with fees, a resale cap and no escrow delay, for tests/fees.spec.ts and
    // tests/payouts.spec.ts (E2E_FEES_URL).
    server(port + 1, 'fees', {
      BUYER_FEE_PERCENT: '10',
      SELLER_FEE_PERCENT: '5',
      RESALE_PRICE_CAP_PERCENT: '120',
      PAYOUT_DELAY: '0',
    }),
  ],
});
