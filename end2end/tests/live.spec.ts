import { test, expect, type Browser, type Page } from '@playwright/test';
import { PASSWORD, open, uniqueEmail } from './helpers';

/** A new account in a fresh browser context (API sign-up). */
async function person(browser: Browser): Promise<{ page: Page; email: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = uniqueEmail();
  await page.goto('/healthz');
  expect((await page.request.post('/api/users/signup', { data: { email, password: PASSWORD } })).status()).toBe(201);
  return { page, email };
}

/**
 * How long a change may take to reach an open page: the feed reads the event log four times a
 * second, but on a loaded two-core machine (the suite runs beside the servers it tests) a poll,
 * the stream and the page's update can each wait their turn.
 */
const LIVE = 5_000;

test.describe('live updates', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'live updates need JavaScript; without it pages are as fresh as their last load');

  test('a listing leaves an open browse page soon after being reserved elsewhere, and comes back when released', async ({ page, browser }) => {
    const word = `zz${Math.random().toString(36).slice(2, 10)}`;
    const seller = await person(browser);
    const created = await seller.page.request.post('/api/tickets', { data: { title: `Live derby ${word}`, price: 30, category: 'sports' } });
    const ticketId = (await created.json()).id as string;

    await open(page, `/tickets?q=${word}`, true);
    const card = page.locator(`[data-ticket-id="${ticketId}"]`);
    await expect(card).toBeVisible();

    const buyer = await person(browser);
    const reserved = await buyer.page.request.post('/api/orders', { data: { ticketId } });
    expect(reserved.status()).toBe(201);
    await expect(card).toBeHidden({ timeout: LIVE });

    const order = await reserved.json();
    expect((await buyer.page.request.delete(`/api/orders/${order.id}`)).status()).toBe(204);
    await expect(card).toBeVisible({ timeout: LIVE });

    // A new listing is announced politely, with a way to see it.
    await seller.page.request.post('/api/tickets', { data: { title: `Live derby two ${word}`, price: 31, category: 'sports' } });
    await expect(page.getByRole('status').filter({ hasText: 'New tickets are on sale.' })).toBeVisible({ timeout: LIVE });
    await page.getByRole('link', { name: 'Show them' }).click();
    await expect(page.getByRole('heading', { name: `Live derby two ${word}` })).toBeVisible();
  });

  test('an open ticket page shows the ticket reserved and sold as it happens', async ({ page, browser }) => {
    const seller = await person(browser);
    const created = await seller.page.request.post('/api/tickets', { data: { title: 'Live final', price: 30, category: 'sports' } });
    const ticketId = (await created.json()).id as string;

    // A signed-in visitor, who sees the Buy button.
    await page.goto('/healthz');
    expect((await page.request.post('/api/users/signup', { data: { email: uniqueEmail(), password: PASSWORD } })).status()).toBe(201);
    await open(page, `/tickets/${ticketId}`, true);
    await expect(page.getByTestId('ticket-status')).toHaveText('On sale');
    await expect(page.getByRole('button', { name: /^Buy for/ })).toBeVisible();

    const buyer = await person(browser);
    const order = await (await buyer.page.request.post('/api/orders', { data: { ticketId } })).json();
    await expect(page.getByTestId('ticket-status')).toHaveText('Reserved', { timeout: LIVE });
    await expect(page.getByRole('button', { name: /^Buy for/ })).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: 'This ticket is now: reserved.' })).toBeVisible();

    expect((await buyer.page.request.post('/api/payments', { data: { orderId: order.id, token: 'tok_visa' } })).status()).toBe(201);
    await expect(page.getByTestId('ticket-status')).toHaveText('Sold', { timeout: LIVE });
  });
});
