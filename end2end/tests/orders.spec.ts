import { test, expect, type Browser, type Page } from '@playwright/test';
import { PASSWORD, open, signUp, uniqueEmail } from './helpers';

function uniqueWord(): string {
  return `zz${Math.random().toString(36).slice(2, 10)}`;
}

/** A seller (in a browser context of their own) with one listed ticket; returns its id and the seller's page. */
async function sellerWithTicket(browser: Browser, title: string, price: number): Promise<{ id: string; seller: Page }> {
  const context = await browser.newContext();
  const seller = await context.newPage();
  await seller.goto('/healthz');
  const signup = await seller.request.post('/api/users/signup', { data: { email: uniqueEmail(), password: PASSWORD } });
  expect(signup.status()).toBe(201);
  const created = await seller.request.post('/api/tickets', { data: { title, price, category: 'concert', venue: 'Harbor Hall' } });
  expect(created.status()).toBe(201);
  return { id: (await created.json()).id, seller };
}

test('buy a ticket, see the time left, cancel, and the ticket is back on sale', async ({ page, browser, javaScriptEnabled }) => {
  const word = uniqueWord();
  const title = `Night concert ${word}`;
  const { id } = await sellerWithTicket(browser, title, 20);

  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await page.getByRole('button', { name: 'Buy for $20.00' }).click();

  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('order-status')).toHaveText('Reserved for you');
  await expect(page.getByTestId('order-price')).toHaveText('$20.00');
  const timer = page.getByTestId('time-left');
  await expect(timer).toHaveText(/^1[45]:\d\d$/);
  if (javaScriptEnabled) {
    // The countdown ticks in the browser.
    const first = await timer.textContent();
    await expect(timer).not.toHaveText(first ?? '', { timeout: 5_000 });
  }

  // Nobody else sees it on sale meanwhile.
  await open(page, `/tickets?q=${word}`, javaScriptEnabled);
  await expect(page.getByText('No tickets match')).toBeVisible();

  await page.getByRole('link', { name: 'My orders' }).click();
  await expect(page).toHaveURL(/\/orders$/);
  await page.getByRole('link', { name: title }).click();
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await expect(page.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(page.getByTestId('time-left')).toHaveCount(0);

  await open(page, `/tickets?q=${word}`, javaScriptEnabled);
  await expect(page.getByRole('article').filter({ hasText: title })).toContainText('$20.00');
});

test('a price changed by the seller before Buy is shown and asked again', async ({ page, browser, javaScriptEnabled }) => {
  const title = `Theatre night ${uniqueWord()}`;
  const { id, seller } = await sellerWithTicket(browser, title, 20);

  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await expect(page.getByTestId('ticket-price')).toHaveText('$20.00');

  // The seller raises the price while the buyer looks at the old one.
  const edit = await seller.request.put(`/api/tickets/${id}`, { data: { title, price: 25, category: 'concert' } });
  expect(edit.status()).toBe(200);

  await page.getByRole('button', { name: 'Buy for $20.00' }).click();
  await expect(page.getByRole('alert')).toContainText('The price of this ticket has changed');
  await expect(page.getByTestId('ticket-price')).toHaveText('$25.00');
  await page.getByRole('button', { name: 'Buy for $25.00' }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('order-price')).toHaveText('$25.00');
});
