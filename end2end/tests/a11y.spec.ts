import { test, expect, type Page } from '@playwright/test';
import { eventOnSale, expectAccessible, grantRole, open, person } from './helpers';

// Every page, in every state a person meets it in, passes axe-core with no serious or critical
// violation, with JavaScript on and off (the two projects).

async function audit(page: Page, path: string, javaScriptEnabled: boolean): Promise<void> {
  await open(page, path, javaScriptEnabled);
  await expectAccessible(page, path, javaScriptEnabled);
}

test.describe.configure({ timeout: 120_000 });

test('pages a visitor sees, and their error states', async ({ page, browser, javaScriptEnabled }) => {
  const seller = await person(browser, javaScriptEnabled);
  const listed = await seller.page.request.post('/api/tickets', {
    data: { title: 'Accessible opera', price: 35, category: 'theater', venue: 'Opera House', startsAt: '2031-07-05T19:30', timeZone: 'Europe/Vienna' },
  });
  expect(listed.status()).toBe(201);
  const id = (await listed.json()).id as string;

  for (const path of ['/', '/tickets', '/tickets?q=Accessible&category=theater&sort=date', '/tickets?q=zzznothingmatches', '/?q=zzznothingmatches', `/tickets/${id}`,
    '/tickets/new', '/auth/signin', '/auth/signup', '/auth/forgot', '/auth/reset?token=not-a-token',
    '/auth/verify?token=not-a-token', '/no-such-page']) {
    await audit(page, path, javaScriptEnabled);
  }
  // A refused sign-in shows its alert.
  await open(page, '/auth/signin', javaScriptEnabled);
  await page.getByLabel('Email').fill('nobody@example.com');
  await page.getByLabel('Password').fill('wrong password here');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Invalid credentials');
  await expectAccessible(page, 'a refused sign-in', javaScriptEnabled);
});

test('pages a seller and a buyer see, with a live countdown and a QR code', async ({ browser, javaScriptEnabled }) => {
  const seller = await person(browser, javaScriptEnabled);
  const ids: string[] = [];
  for (const title of ['Reserved show', 'Paid show']) {
    const created = await seller.page.request.post('/api/tickets', { data: { title, price: 20, category: 'concert' } });
    ids.push((await created.json()).id as string);
  }
  for (const path of ['/tickets/new', `/tickets/${ids[0]}`, '/payouts', '/account', '/tickets/mine']) {
    await audit(seller.page, path, javaScriptEnabled);
  }
  // The listing form with its errors beside the inputs.
  await open(seller.page, '/tickets/new', javaScriptEnabled);
  await seller.page.getByLabel('Title').fill('Half a price');
  await seller.page.getByLabel('Price').fill('9.999');
  await seller.page.getByRole('button', { name: 'List ticket' }).click();
  await expect(seller.page.getByText('Price must have at most 2 decimals')).toBeVisible();
  await expectAccessible(seller.page, 'the listing form with an error', javaScriptEnabled);

  const buyer = await person(browser, javaScriptEnabled);
  const reserved = await (await buyer.page.request.post('/api/orders', { data: { ticketId: ids[0] } })).json();
  const paid = await (await buyer.page.request.post('/api/orders', { data: { ticketId: ids[1] } })).json();
  expect((await buyer.page.request.post('/api/payments', { data: { orderId: paid.id, token: 'tok_visa' } })).status()).toBe(201);

  await audit(buyer.page, `/orders/${reserved.id}`, javaScriptEnabled);
  // The time left is announced politely, at a few milestones rather than at every tick.
  await expect(buyer.page.getByTestId('time-left')).toHaveAttribute('role', 'timer');
  const said = buyer.page.getByTestId('time-left-announcement');
  await expect(said).toHaveAttribute('aria-live', 'polite');
  await expect(said).toHaveText('Less than 15 minutes left to pay');
  for (const path of [`/orders/${paid.id}`, '/orders', '/tickets/mine']) {
    await audit(buyer.page, path, javaScriptEnabled);
  }
});

test('the door and the console', async ({ browser, javaScriptEnabled }) => {
  const admin = await person(browser, javaScriptEnabled);
  grantRole(admin.email, 'admin');
  const staff = await person(browser, javaScriptEnabled);
  grantRole(staff.email, 'staff');
  await audit(staff.page, '/check-in', javaScriptEnabled);
  const organiser = await person(browser, javaScriptEnabled);
  const gig = await eventOnSale(organiser.page.request, organiser.email, 'Audited gig', 10);
  await audit(staff.page, `/check-in?event=${gig.eventId}`, javaScriptEnabled);
  for (const path of ['/admin', '/admin/listings', '/admin/users', '/admin/orders', '/admin/payouts', '/admin/audit']) {
    await audit(admin.page, path, javaScriptEnabled);
  }
  // A closed door says so accessibly too.
  await audit(staff.page, '/admin', javaScriptEnabled);
});

test('events: the catalogue, an event page and the organiser pages', async ({ browser, javaScriptEnabled }) => {
  const organiser = await person(browser, javaScriptEnabled);
  const gig = await eventOnSale(organiser.page.request, organiser.email, 'Audited <b>event</b>', 10);
  const slug = (await (await organiser.page.request.get(`/api/events/${gig.eventId}`)).json()).slug as string;
  const buyer = await person(browser, javaScriptEnabled);
  expect((await buyer.page.request.post('/api/orders', { data: { sectionId: gig.sectionId } })).status()).toBe(201);
  for (const path of ['/', '/?q=audited&when=month', '/?q=zzznothingmatches', `/events/${slug}`]) {
    await audit(buyer.page, path, javaScriptEnabled);
  }
  for (const path of ['/organise', '/organise/new', `/organise/${gig.eventId}`]) {
    await audit(organiser.page, path, javaScriptEnabled);
  }
  // A plain account is told the organiser pages are not theirs, accessibly.
  await audit(buyer.page, '/organise', javaScriptEnabled);
});

test('keyboard focus is always visible', async ({ page, javaScriptEnabled }) => {
  await open(page, '/auth/signin', javaScriptEnabled);
  // Tab through the header and the form: every focused element draws an outline.
  for (let i = 0; i < 8; i += 1) {
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    await expect(focused, `focus step ${i + 1}`).toHaveCount(1);
    await expect(focused, `focus step ${i + 1}`).toHaveCSS('outline-style', 'solid');
    await expect(focused, `focus step ${i + 1}`).not.toHaveCSS('outline-width', '0px');
  }
});

test('on a phone: a compact account menu and a centred QR code', async ({ browser, javaScriptEnabled }) => {
  const seller = await person(browser, javaScriptEnabled);
  const created = await seller.page.request.post('/api/tickets', { data: { title: 'Phone show', price: 12, category: 'concert' } });
  const id = (await created.json()).id as string;
  const buyer = await person(browser, javaScriptEnabled);
  const order = await (await buyer.page.request.post('/api/orders', { data: { ticketId: id } })).json();
  expect((await buyer.page.request.post('/api/payments', { data: { orderId: order.id, token: 'tok_visa' } })).status()).toBe(201);

  const page = buyer.page;
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, '/tickets/mine', javaScriptEnabled);
  // The header is one line: the address and the links are folded into the menu.
  await expect(page.getByTestId('current-user')).toBeHidden();
  const header = await page.locator('.site-header').boundingBox();
  expect(header!.height).toBeLessThan(80);
  const menu = page.locator('.account-menu summary');
  await expect(menu).toHaveText('Menu');
  await menu.click();
  await expect(page.locator('.account-menu').getByText(buyer.email)).toBeVisible();
  await expect(page.getByRole('link', { name: 'My orders' })).toBeVisible();

  // The QR code sits in the middle of its card.
  const card = page.getByTestId('bought-ticket').filter({ hasText: 'Phone show' });
  const qr = await card.locator('.qr').boundingBox();
  const box = await card.boundingBox();
  expect(Math.abs(qr!.x + qr!.width / 2 - (box!.x + box!.width / 2))).toBeLessThan(2);
  await expectAccessible(page, '/tickets/mine on a phone', javaScriptEnabled);

  await page.getByRole('link', { name: 'My orders' }).click();
  await expect(page).toHaveURL(/\/orders$/);
});
