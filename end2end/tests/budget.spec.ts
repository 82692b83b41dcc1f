import { test, expect } from '@playwright/test';

/** The contract's budget for a first visit to `/`: the JS, wasm and CSS files as the browser
 * downloads them (compressed bodies; their headers are logged beside), in KiB. */
const FIRST_VISIT_BUDGET_KIB = 300;

test('a first visit to the home page downloads at most the budget of code and style', async ({ browser, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'without JavaScript no code is downloaded at all');
  // A fresh context: nothing cached, as for a first visit.
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map<string, string>();
  const headers = new Map<string, number>();
  const sizes = new Map<string, number>();
  cdp.on('Network.responseReceived', (event) => {
    urls.set(event.requestId, event.response.url);
    // What had arrived when the response began: its status line and headers.
    headers.set(event.requestId, event.response.encodedDataLength);
  });
  cdp.on('Network.loadingFinished', (event) => sizes.set(event.requestId, event.encodedDataLength));

  await page.goto('/');
  await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.waitForLoadState('networkidle');

  const files: [string, number][] = [];
  let headerBytes = 0;
  for (const [id, url] of urls) {
    const path = new URL(url).pathname;
    if (!/\.(js|wasm|css)$/.test(path)) continue;
    const head = headers.get(id) ?? 0;
    headerBytes += head;
    files.push([path, (sizes.get(id) ?? 0) - head]);
  }
  const total = files.reduce((sum, [, size]) => sum + size, 0);
  const listing = files
    .sort((a, b) => b[1] - a[1])
    .map(([path, size]) => `${path.split('/').pop()} ${(size / 1024).toFixed(1)} KiB`)
    .join(', ');
  console.log(
    `first visit to /: ${(total / 1024).toFixed(1)} KiB of bodies (and ${(headerBytes / 1024).toFixed(1)} KiB of headers) in ${files.length} files: ${listing}`,
  );
  expect(files.some(([path]) => path.endsWith('.wasm')), 'the app was downloaded').toBe(true);
  expect(total / 1024, `first visit: ${listing}`).toBeLessThanOrEqual(FIRST_VISIT_BUDGET_KIB);
  await context.close();
});
