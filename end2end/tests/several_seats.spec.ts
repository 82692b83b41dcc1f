import { test, expect } from '@playwright/test';
import { becomeOrganiser, expectAccessible, grantRole, mailTo, open, pay, person, signUp, uniqueEmail } from './helpers';

/** A seated event (rows A and B of six seats at $15) published through the API by a new
 * organiser; its page's address. */
async function seatedEvent(browser: import('@playwright/test').Browser, javaScriptEnabled: boolean, name: string, maxPerBuyer = 8): Promise<string> {
  const organiser = await person(browser, javaScriptEnabled);
  await becomeOrganiser(organiser.page.request, organiser.email);
  const created = await organiser.page.request.post('/api/events', {
    data: {
      name,
      category: 'theater',
      venue: 'Playhouse',
      city: 'Leeds',
      timeZone: 'Europe/London',
      startsAt: '2030-07-01T19:30',
      maxPerBuyer,
      sections: [{ name: 'Stalls', price: 15, seating: { rows: [{ label: 'A', seats: 6 }, { label: 'B', seats: 6 }] } }],
    },
  });
  expect(created.status()).toBe(201);
  const event = await created.json();
  expect((await organiser.page.request.post(`/api/events/${event.id}/publish`, { data: {} })).status()).toBe(200);
  return `/events/${event.slug}`;
}

test('three seats picked on the seat map are paid once, each with its own code; two more come best available; one seat is resold on its own', async ({ page, browser, javaScriptEnabled }) => {
  test.slow();
  const name = `Trio ${Math.random().toString(36).slice(2, 10)}`;
  const path = await seatedEvent(browser, javaScriptEnabled, name);

  // The first buyer ticks three seats on the map and buys them in one order.
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);
  await open(page, path, javaScriptEnabled);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  const map = page.getByTestId('seat-map');
  await map.getByText('Choose your seats in Stalls').click();
  for (const seat of ['Row A, Seat 2', 'Row A, Seat 3', 'Row A, Seat 4']) {
    await map.getByRole('checkbox', { name: seat, exact: true }).check();
  }
  // The open seat map, its seats ticked, passes axe (with and without JavaScript).
  await expectAccessible(page, 'the seat map', javaScriptEnabled);
  await map.getByRole('button', { name: 'Buy the seats I chose (Stalls)' }).click();
  await expect(page.getByTestId('order-seats')).toHaveText(/Row A, Seat 2\s*Row A, Seat 3\s*Row A, Seat 4/);
  await pay(page, '$45.00', javaScriptEnabled);

  // One receipt, with a code for each seat.
  const receipt = await mailTo(email, `Your 3 tickets: ${name} — Stalls`);
  for (const seat of ['Row A, Seat 2', 'Row A, Seat 3', 'Row A, Seat 4']) {
    expect(receipt.text).toContain(`${seat}: ticket code`);
  }
  await open(page, '/tickets/mine', javaScriptEnabled);
  const mine = page.getByTestId('bought-ticket').filter({ hasText: name });
  await expect(mine).toHaveCount(3);
  const codes = await mine.getByTestId('ticket-code').allTextContents();
  expect(new Set(codes).size).toBe(3);
  for (const code of codes) expect(receipt.text).toContain(code);
  // Each code's QR image travels inside the message.
  expect(receipt.images.sort()).toEqual(codes.map((code) => `qr.${code}`).sort());

  // A second buyer takes two together, best available: row A's seats 5 and 6.
  const second = await person(browser, javaScriptEnabled);
  await open(second.page, path, javaScriptEnabled);
  if (javaScriptEnabled) await expect(second.page.locator('body[data-hydrated]')).toBeAttached();
  await second.page.getByLabel('Tickets in Stalls').selectOption('2');
  await second.page.getByRole('button', { name: 'Buy — $15.00 (Stalls)' }).click();
  await expect(second.page.getByTestId('order-seats')).toHaveText(/Row A, Seat 5\s*Row A, Seat 6/);
  await pay(second.page, '$30.00', javaScriptEnabled);

  // An admin refunds one of the second buyer's seats alone from the console; the order stands.
  const admin = await person(browser, javaScriptEnabled);
  grantRole(admin.email, 'admin');
  await open(admin.page, `/admin/orders?q=${encodeURIComponent(second.email)}`, javaScriptEnabled);
  const row = admin.page.getByTestId('order-row');
  await row.getByLabel('Refund', { exact: true }).selectOption({ label: 'Row A, Seat 6 alone' });
  await row.getByLabel('Reason').fill('Seat 6 is broken');
  await row.getByRole('button', { name: 'Refund' }).click();
  await expect(row.locator('select option')).toHaveText(['The whole order', 'Row A, Seat 5 alone']);
  await expect(row).toContainText('complete');
  await open(second.page, '/tickets/mine', javaScriptEnabled);
  const theirs = second.page.getByTestId('bought-ticket').filter({ hasText: name });
  await expect(theirs.filter({ hasText: 'Row A, Seat 5' }).getByTestId('ticket-code')).toHaveCount(1);
  await expect(theirs.filter({ hasText: 'Row A, Seat 6' }).getByTestId('ticket-code')).toHaveCount(0);

  // The first buyer resells one seat on its own; the other two stay theirs.
  const one = mine.filter({ hasText: 'Row A, Seat 3' });
  await one.getByLabel('Resale price').fill('15');
  await one.getByRole('button', { name: 'Resell' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  await open(page, path, javaScriptEnabled);
  await expect(page.getByTestId('resale-list')).toContainText('Row A, Seat 3');
  await open(page, '/tickets/mine', javaScriptEnabled);
  await expect(mine.filter({ hasText: 'Row A, Seat 2' }).getByTestId('ticket-code')).toHaveCount(1);
  await expect(mine.filter({ hasText: 'Row A, Seat 4' }).getByTestId('ticket-code')).toHaveCount(1);
});

test('with JavaScript the seat map counts the seats ticked and stops at the buyer\'s limit; without it the order refuses', async ({ page, browser, javaScriptEnabled }) => {
  const name = `Pair ${Math.random().toString(36).slice(2, 10)}`;
  const path = await seatedEvent(browser, javaScriptEnabled, name, 2);
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, path, javaScriptEnabled);
  const map = page.getByTestId('seat-map');
  await map.getByText('Choose your seats in Stalls').click();
  const seat = (label: string) => map.getByRole('checkbox', { name: label, exact: true });
  if (javaScriptEnabled) {
    await expect(page.locator('body[data-hydrated]')).toBeAttached();
    await seat('Row B, Seat 1').check();
    await expect(map.getByTestId('seats-chosen')).toHaveText('1 seat chosen of up to 2');
    await seat('Row B, Seat 2').check();
    await expect(map.getByTestId('seats-chosen')).toHaveText('2 seats chosen of up to 2');
    await expect(seat('Row B, Seat 3')).toBeDisabled();
    await seat('Row B, Seat 2').uncheck();
    await expect(seat('Row B, Seat 3')).toBeEnabled();
  } else {
    for (const label of ['Row B, Seat 1', 'Row B, Seat 2', 'Row B, Seat 3']) await seat(label).check();
    await map.getByRole('button', { name: 'Buy the seats I chose (Stalls)' }).click();
    await expect(page.getByRole('alert')).toContainText('You can hold at most 2 tickets for this event');
  }
});
