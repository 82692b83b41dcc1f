import { test, expect, type Browser } from '@playwright/test';
import { PASSWORD, open, signUp, uniqueEmail } from './helpers';

function uniqueWord(): string {
  return `zz${Math.random().toString(36).slice(2, 10)}`;
}

/** A seller in a browser context of their own lists one ticket; returns its id. */
async function listedTicket(browser: Browser, title: string, price: number): Promise<string> {
  const context = await browser.newContext();
  const seller = await context.newPage();
  await seller.goto('/healthz');
  const signup = await seller.request.post('/api/users/signup', { data: { email: uniqueEmail(), password: PASSWORD } });
  expect(signup.status()).toBe(201);
  const created = await seller.request.post('/api/tickets', { data: { title, price, category: 'sports', venue: 'City Stadium' } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id as string;
  await context.close();
  return id;
}

test('pay with the test card and find the ticket under My tickets with its QR code', async ({ page, browser, javaScriptEnabled }) => {
  const title = `Cup final ${uniqueWord()}`;
  const id = await listedTicket(browser, title, 45);

  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await expect(page.getByTestId('test-mode-banner')).toHaveText('Test mode — no real payments');
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await page.getByRole('button', { name: 'Buy for $45.00' }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();

  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Pay $45.00' }).click();
  await expect(page.getByTestId('order-status')).toHaveText('Paid');
  await expect(page.getByTestId('time-left')).toHaveCount(0);

  await page.getByRole('link', { name: 'see it under My tickets' }).click();
  await expect(page).toHaveURL(/\/tickets\/mine$/);
  const bought = page.getByTestId('bought-ticket').filter({ hasText: title });
  await expect(bought).toHaveCount(1);
  await expect(bought.getByTestId('ticket-code')).toHaveText(/^TKT(-[0-9A-F]{8}){4}$/);
  const code = await bought.getByTestId('ticket-code').textContent();
  await expect(bought.getByRole('img', { name: `QR code for ticket code ${code}` }).locator('svg')).toBeVisible();

  // The ticket is sold: it is no longer on sale.
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await expect(page.getByTestId('ticket-status')).toHaveText('Sold');

  // The buyer can't go after all: they resell it, as a new listing of their own.
  await open(page, '/tickets/mine', javaScriptEnabled);
  const resell = page.getByRole('form', { name: `Resell ${title}` });
  await resell.getByLabel('Resale price').fill('50');
  await resell.getByRole('button', { name: 'Resell' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  expect(page.url()).not.toContain(id);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByTestId('ticket-price')).toHaveText('$50.00');
  await expect(page.getByTestId('ticket-status')).toHaveText('On sale');
  await open(page, '/tickets/mine', javaScriptEnabled);
  await expect(page.getByTestId('bought-ticket').filter({ hasText: title })).toContainText('Back on sale');
});

test('a declined card cancels the order and puts the ticket back on sale', async ({ page, browser, javaScriptEnabled }) => {
  const word = uniqueWord();
  const title = `Derby ${word}`;
  const id = await listedTicket(browser, title, 30);

  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await page.getByRole('button', { name: 'Buy for $30.00' }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();

  await page.getByLabel('Card number').fill('4000 0000 0000 0002');
  await page.getByRole('button', { name: 'Pay $30.00' }).click();
  await expect(page.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(page.getByTestId('payment-problem')).toHaveText('Your card was declined.');

  await open(page, `/tickets?q=${word}`, javaScriptEnabled);
  await expect(page.getByRole('article').filter({ hasText: title })).toContainText('$30.00');
});

test('test mode refuses any card but the published test numbers', async ({ page, browser, javaScriptEnabled }) => {
  const id = await listedTicket(browser, `Recital ${uniqueWord()}`, 12);
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, `/tickets/${id}`, javaScriptEnabled);
  await page.getByRole('button', { name: 'Buy for $12.00' }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByLabel('Card number').fill('4111 1111 1111 1111');
  await page.getByRole('button', { name: 'Pay $12.00' }).click();
  await expect(page.locator('#card_number-error')).toContainText("Test mode takes only Stripe's test cards");
  await expect(page.getByTestId('order-status')).toHaveText('Reserved for you');
});
