import { test, expect, type Browser, type Page } from '@playwright/test';
import { mailTo, open, signUp, uniqueEmail, verifyEmail, type Site } from './helpers';

/** A verified seller lists a ticket and a buyer in another browser pays for it. */
async function sellOne(
  page: Page,
  browser: Browser,
  javaScriptEnabled: boolean,
  site: Site,
  price: string,
  total: string,
): Promise<{ seller: string; title: string }> {
  const seller = uniqueEmail();
  const title = `Payout gig zz${Math.random().toString(36).slice(2, 10)}`;
  await signUp(page, seller, javaScriptEnabled);
  await verifyEmail(page, seller, javaScriptEnabled, site);
  await open(page, '/tickets/new', javaScriptEnabled);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price').fill(price);
  if (site === 'fees') await page.getByLabel('Face value').fill(price);
  await page.getByLabel('Category').selectOption('concert');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  const ticketUrl = page.url();

  const buyerContext = await browser.newContext({ javaScriptEnabled });
  const buyer = await buyerContext.newPage();
  await signUp(buyer, uniqueEmail(), javaScriptEnabled);
  await open(buyer, ticketUrl, javaScriptEnabled);
  await buyer.getByRole('button', { name: `Buy for ${total}` }).click();
  await expect(buyer).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(buyer.locator('body[data-hydrated]')).toBeAttached();
  await buyer.getByLabel('Card number').fill('4242 4242 4242 4242');
  await buyer.getByRole('button', { name: `Pay ${total}` }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  await buyerContext.close();
  return { seller, title };
}

test('a sale waits in escrow until after the event; the seller connects a payout account', async ({ page, browser, javaScriptEnabled }) => {
  const { title } = await sellOne(page, browser, javaScriptEnabled, 'e2e', '30', '$30.00');

  await open(page, '/payouts', javaScriptEnabled);
  await expect(page.getByRole('heading', { name: 'Payouts', level: 1 })).toBeVisible();
  await expect(page.getByTestId('pending')).toHaveText('$30.00');
  await expect(page.getByTestId('available')).toHaveText('$0.00');
  await expect(page.getByText(/Next release from escrow: .+ UTC\./)).toBeVisible();
  const earning = page.getByTestId('earnings').getByRole('row').filter({ hasText: title });
  await expect(earning).toContainText('$30.00');
  await expect(earning).toContainText('In escrow');
  await expect(page.getByTestId('account-status')).toHaveText('Not connected');

  await page.getByRole('button', { name: 'Connect a test payout account' }).click();
  await expect(page.getByRole('status')).toHaveText('Your payout account is connected.');
  await expect(page.getByTestId('account-status')).toHaveText('Ready for payouts');
  await expect(page.getByRole('button', { name: /Connect/ })).toHaveCount(0);
  // Two days after the sale, not now: the money stays in escrow.
  await expect(earning).toContainText('In escrow');
  await expect(page.getByTestId('paid-out')).toHaveText('$0.00');
});

test.describe('with no escrow delay', () => {
  test.use({ baseURL: process.env.E2E_FEES_URL });

  test('the seller is paid the price less the fee, and told by email', async ({ page, browser, javaScriptEnabled }) => {
    const { seller, title } = await sellOne(page, browser, javaScriptEnabled, 'fees', '20.50', '$22.55');

    await open(page, '/payouts', javaScriptEnabled);
    await expect(page.getByTestId('earnings').getByRole('row').filter({ hasText: title })).toContainText('$19.47');
    await page.getByRole('button', { name: 'Connect a test payout account' }).click();
    await expect(page.getByTestId('account-status')).toHaveText('Ready for payouts');

    // The payout job runs as soon as the account is connected; reload until it has.
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId('paid-out')).toHaveText('$19.47', { timeout: 1_000 });
    }).toPass();
    await expect(page.getByTestId('available')).toHaveText('$0.00');
    await expect(page.getByTestId('earnings').getByRole('row').filter({ hasText: title })).toContainText('Paid out');
    await expect(page.getByTestId('payouts').getByRole('row').filter({ hasText: '$19.47' })).toContainText('Sent');
    await mailTo(seller, 'Payout sent: $19.47', 'fees');
  });
});
