import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, grantRole, open, person } from './helpers';

/** Fills the reason of the row's form whose button is `action`, and presses it. */
async function act(page: Page, rowTestId: string, rowText: string, action: string, reason: string): Promise<void> {
  const row = page.getByTestId(rowTestId).filter({ hasText: rowText });
  const form = row.locator('form', { has: page.getByRole('button', { name: action }) });
  await form.getByLabel('Reason').fill(reason);
  await form.getByRole('button', { name: action }).click();
}

test('an admin takes a listing down, refunds an order and suspends a seller with plain forms', async ({ browser, javaScriptEnabled }) => {
  const word = `zz${Math.random().toString(36).slice(2, 10)}`;
  const seller = await person(browser, javaScriptEnabled);
  const fake = await seller.page.request.post('/api/tickets', { data: { title: `Fake final ${word}`, price: 40, category: 'sports' } });
  expect(fake.status()).toBe(201);
  const fakeId = (await fake.json()).id as string;
  const real = await seller.page.request.post('/api/tickets', { data: { title: `Real final ${word}`, price: 25, category: 'sports' } });
  const realId = (await real.json()).id as string;
  const buyer = await person(browser, javaScriptEnabled);
  const order = await (await buyer.page.request.post('/api/orders', { data: { ticketId: realId } })).json();
  expect((await buyer.page.request.post('/api/payments', { data: { orderId: order.id, token: 'tok_visa' } })).status()).toBe(201);

  const admin = await person(browser, javaScriptEnabled);
  // Before the role the console is closed to this account.
  const closed = await admin.page.goto('/admin');
  expect(closed?.status()).toBe(403);
  await expect(admin.page.getByText("This page is for the marketplace's admins.")).toBeVisible();
  grantRole(admin.email, 'admin');
  const page = admin.page;

  await open(page, '/admin', javaScriptEnabled);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('dashboard')).toContainText('On sale now');
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toBeVisible();

  // Take the fake listing down: it leaves the browse page.
  await open(page, `/admin/listings?q=${word}`, javaScriptEnabled);
  await act(page, 'listing-row', `Fake final ${word}`, 'Take down', 'Counterfeit <b>report</b>');
  const fakeRow = page.getByTestId('listing-row').filter({ hasText: `Fake final ${word}` });
  await expect(fakeRow).toContainText('removed');
  await expect(fakeRow).toContainText('Counterfeit <b>report</b>');
  expect((await (await page.request.get(`/api/tickets/${fakeId}`)).json()).status).toBe('removed');

  // Refund the real order.
  await open(page, `/admin/orders?q=${encodeURIComponent(buyer.email)}`, javaScriptEnabled);
  await act(page, 'order-row', `Real final ${word}`, 'Refund', 'Event moved');
  await expect(page.getByTestId('order-row').filter({ hasText: `Real final ${word}` })).toContainText('refunded');

  // A reason is required: the form says so and nothing happens.
  await open(page, `/admin/users?q=${encodeURIComponent(seller.email)}`, javaScriptEnabled);
  const sellerRow = page.getByTestId('user-row').filter({ hasText: seller.email });
  const suspendForm = sellerRow.locator('form', { has: page.getByRole('button', { name: 'Suspend' }) });
  await suspendForm.getByLabel('Reason').fill('   ');
  await suspendForm.getByRole('button', { name: 'Suspend' }).click();
  await expect(page.getByRole('alert')).toContainText('Reason is required');
  await expect(sellerRow).not.toContainText('suspended');

  // Suspend the seller: signed out, no sign-in.
  await act(page, 'user-row', seller.email, 'Suspend', 'Sold counterfeits');
  await expect(page.getByTestId('user-row').filter({ hasText: seller.email })).toContainText('suspended');
  const me = await (await seller.page.request.get('/api/users/currentuser')).json();
  expect(me.currentUser).toBeNull();
  const signIn = await seller.page.request.post('/api/users/signin', { data: { email: seller.email, password: PASSWORD } });
  expect(signIn.status()).toBe(403);

  // The audit log has all three, with who and why.
  await open(page, '/admin/audit', javaScriptEnabled);
  const rows = page.getByTestId('audit-row');
  await expect(rows.filter({ hasText: 'Took down a listing' }).filter({ hasText: fakeId })).toContainText('Counterfeit <b>report</b>');
  await expect(rows.filter({ hasText: 'Refunded an order' }).filter({ hasText: order.id })).toContainText(admin.email);
  await expect(rows.filter({ hasText: 'Suspended an account' }).first()).toContainText('Sold counterfeits');
});
