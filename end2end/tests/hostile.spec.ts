import { test, expect } from '@playwright/test';
import { open, signUp, uniqueEmail } from './helpers';

// A seller's title that would run script for every visitor if any page printed it as markup.
const HOSTILE = `</title><script>window.pwned=1</script><img src=x onerror="window.pwned=2"> zz${Math.random()
  .toString(36)
  .slice(2, 8)}`;

test('a hostile ticket title is shown as text to its seller and to buyers, and runs nothing', async ({ browser, page, javaScriptEnabled }) => {
  const violations: string[] = [];
  const watch = (p: typeof page) =>
    p.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text());
    });
  watch(page);

  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/tickets/new', javaScriptEnabled);
  await page.getByLabel('Title').fill(HOSTILE);
  await page.getByLabel('Price').fill('30');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  const ticketPath = new URL(page.url()).pathname;

  const buyer = await browser.newPage({ javaScriptEnabled });
  watch(buyer);
  await signUp(buyer, uniqueEmail(), javaScriptEnabled);
  for (const [p, path] of [
    [page, ticketPath],
    [page, '/tickets/mine'],
    [buyer, ticketPath],
    [buyer, `/tickets?q=${HOSTILE.split(' ').pop()}`],
  ] as const) {
    await open(p, path, javaScriptEnabled);
    await expect(p.getByText(HOSTILE).first()).toBeVisible();
    if (path === ticketPath) {
      await expect(p.getByRole('heading', { level: 1 })).toHaveText(HOSTILE);
      expect(await p.title()).toBe(`${HOSTILE} · Ticketing`);
    }
    await expect(p.locator('img[src="x"]')).toHaveCount(0);
    if (javaScriptEnabled) {
      expect(await p.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    }
  }
  // The app's own scripts ran (the pages hydrated) without tripping the content security policy.
  expect(violations).toEqual([]);
  await buyer.close();
});
