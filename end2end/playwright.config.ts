import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The suite drives the release binary (built by .ci/build-release or `cargo leptos build --release`)
// on a fresh database in a temporary folder, with Debian's Chromium: Playwright never downloads a browser.
const port = Number(process.env.E2E_PORT ?? 3123);
// Made once by the runner; its workers inherit the variable and so read the same mail folder.
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'ticketing-e2e-'));
const dataDir = process.env.E2E_DATA_DIR;

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
  webServer: {
    command: process.env.TICKETING_BIN ?? '../target/release/ticketing',
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      DATABASE_URL: `sqlite://${join(dataDir, 'e2e.db')}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      AUTH_RATE_LIMIT: '0',
      // No SMTP server: every message is an .eml file here, which the tests read (helpers.ts).
      MAIL_DIR: join(dataDir, 'mail'),
      RUST_LOG: 'warn',
    },
  },
});
