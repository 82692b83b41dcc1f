import { test, expect } from '@playwright/test';
import { open, signUp, uniqueEmail } from './helpers';

// The second site of playwright.config.ts: a 10 % buyer fee, a 5 % seller fee, a 120 % cap.
test.use({ baseURL: process.env.E2E_FEES_URL });

test('a seller lists under the resale cap and sees what they receive; a buyer pays the price and the fee', async ({ page, browser, javaScriptEnabled }) => {
  const title = `Cup final zz${Math.random().toString(36).slice(2, 10)}`;
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/tickets/new', javaScriptEnabled);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price').fill('130');
  await page.getByLabel('Face value').fill('100');
  await page.getByLabel('Category').selectOption('sports');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.locator('#price-error')).toHaveText('Price is above the resale cap of 120.00');

  if (!javaScriptEnabled) {
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Face value').fill('100');
  }
  await page.getByLabel('Price').fill('20.50');
  await page.getByLabel('Face value').fill('20');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('ticket-price')).toHaveText('$20.50');
  await expect(page.getByTestId('ticket-face-value')).toHaveText('$20.00');
  await expect(page.getByTestId('ticket-seller-net')).toHaveText('$19.47');
  const ticketUrl = page.url();

  const buyerContext = await browser.newContext({ javaScriptEnabled });
  const buyer = await buyerContext.newPage();
  await signUp(buyer, uniqueEmail(), javaScriptEnabled);
  await open(buyer, ticketUrl, javaScriptEnabled);
  await expect(buyer.getByTestId('ticket-fee')).toHaveText('$2.05');
  await expect(buyer.getByTestId('ticket-total')).toHaveText('$22.55');
  await buyer.getByRole('button', { name: 'Buy for $22.55' }).click();
  await expect(buyer).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(buyer.locator('body[data-hydrated]')).toBeAttached();
  await expect(buyer.getByTestId('order-fee')).toHaveText('$2.05');
  await expect(buyer.getByTestId('order-total')).toHaveText('$22.55');
  await buyer.getByLabel('Card number').fill('4242 4242 4242 4242');
  await buyer.getByRole('button', { name: 'Pay $22.55' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  await buyerContext.close();
});
