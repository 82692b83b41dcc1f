import { test, expect } from '@playwright/test';
import { deflateSync } from 'node:zlib';
import { becomeOrganiser, eventOnSale, mailTo, open, pay, person, publishEvent, signUp, uniqueEmail } from './helpers';

/** A small PNG (a colour gradient), made here so the test needs no file on disk. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows.set([(x * 255) / width, (y * 255) / height, 160], at);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('an organiser puts a seated event on sale; a buyer finds it, buys, and only its door admits the code', async ({ page, browser, javaScriptEnabled }) => {
  test.slow();
  const word = `Gala${Math.random().toString(36).slice(2, 10)}`;
  const name = `${word} <Night>`;
  const organiser = await person(browser, javaScriptEnabled);
  await becomeOrganiser(organiser.page.request, organiser.email);
  const org = organiser.page;

  // The organiser creates the draft, adds a seated section, an image, and publishes.
  await open(org, '/organise', javaScriptEnabled);
  await org.getByRole('link', { name: 'New event' }).click();
  await expect(org).toHaveURL(/\/organise\/new$/);
  if (javaScriptEnabled) await expect(org.locator('body[data-hydrated]')).toBeAttached();
  await org.getByLabel('Name').fill(name);
  await org.getByLabel('Category').selectOption('theater');
  await org.getByLabel('Venue', { exact: true }).fill('Old Vic');
  await org.getByLabel('City (optional)').fill('London');
  await org.getByLabel('Time zone of the venue').selectOption('Europe/London');
  await org.getByLabel("Starts (venue's time)").fill('2030-06-01T19:30');
  await org.getByRole('button', { name: 'Create draft' }).click();
  await expect(org).toHaveURL(/\/organise\/[0-9a-f-]{36}$/);
  const eventId = org.url().split('/').pop() as string;
  await expect(org.getByTestId('event-status')).toContainText('Draft');

  const section = org.getByRole('form', { name: 'New section' });
  await section.getByLabel('Section name').fill('Circle');
  await section.getByLabel('Price').fill('25');
  await section.getByLabel('Seated rows').check();
  await section.getByLabel(/Rows \(seated\)/).fill('A 2\nB 2');
  await section.getByRole('button', { name: 'Add section' }).click();
  await expect(org.getByTestId('sections')).toContainText('Circle — $25.00 · 0 of 4 sold · seated');

  await org.getByLabel(/^Image/).setInputFiles({ name: 'poster.png', mimeType: 'image/png', buffer: png(900, 300) });
  await org.getByRole('button', { name: 'Upload image' }).click();
  await expect(org.getByTestId('event-image')).toBeVisible();

  await org.getByRole('button', { name: 'Publish now' }).click();
  await expect(org.getByTestId('event-status')).toContainText('On sale');

  // A buyer finds it by a word of its name on its date, and buys the front seat.
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/', javaScriptEnabled);
  await page.getByRole('searchbox', { name: 'Search by event, venue or city' }).fill(word);
  await page.getByLabel('From').fill('2030-06-01');
  await page.getByLabel('To').fill('2030-06-01');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${word}`));
  const card = page.getByRole('article').filter({ hasText: name });
  await expect(card).toContainText('from $25.00');
  await expect(card).toContainText('Sat 1 Jun 2030, 19:30 BST');
  await expect(card.locator('img')).toHaveAttribute('src', /^\/media\/[0-9a-f]{32}\.jpg$/);
  await card.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.getByTestId('availability')).toHaveText('4 left');
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByRole('button', { name: 'Buy — $25.00 (Circle)' }).click();
  await pay(page, '$25.00', javaScriptEnabled);
  await open(page, '/tickets/mine', javaScriptEnabled);
  const mine = page.getByTestId('bought-ticket').filter({ hasText: name });
  await expect(mine).toContainText('Row A, Seat 1');
  const code = (await mine.getByTestId('ticket-code').textContent()) as string;

  // Its organiser's door admits it; the door of another event does not.
  const other = await publishEvent(org.request, `Other ${word}`, 10, 5, '2030-06-02');
  await open(org, `/check-in?event=${other.eventId}`, javaScriptEnabled);
  await org.getByLabel('Ticket code').fill(code);
  await org.getByRole('button', { name: 'Check in' }).click();
  await expect(org.getByTestId('scan-result')).toContainText(`Wrong event — this code is for ${name}`);
  await open(org, `/check-in?event=${eventId}`, javaScriptEnabled);
  await org.getByLabel('Ticket code').fill(code);
  await org.getByRole('button', { name: 'Check in' }).click();
  await expect(org.getByTestId('scan-result')).toContainText('Valid');
  await expect(org.getByTestId('door-count')).toHaveText('1 of 1 checked in');
});

test('an organiser cancels an event and its buyer is refunded', async ({ page, browser, javaScriptEnabled }) => {
  test.slow();
  const name = `Storm ${Math.random().toString(36).slice(2, 10)}`;
  const organiser = await person(browser, javaScriptEnabled);
  const gig = await eventOnSale(organiser.page.request, organiser.email, name, 20);

  const buyerEmail = uniqueEmail();
  await signUp(page, buyerEmail, javaScriptEnabled);
  const reserved = await page.request.post('/api/orders', { data: { sectionId: gig.sectionId } });
  expect(reserved.status()).toBe(201);
  const orderId = (await reserved.json()).id as string;
  await open(page, `/orders/${orderId}`, javaScriptEnabled);
  await pay(page, '$20.00', javaScriptEnabled);

  const org = organiser.page;
  await open(org, `/organise/${gig.eventId}`, javaScriptEnabled);
  await expect(org.getByTestId('event-sales')).toContainText('1 of 10');
  await expect(org.getByTestId('attendees')).toContainText(buyerEmail);
  const cancel = org.getByRole('form', { name: 'Cancel this event' });
  await cancel.getByLabel('Reason (sent to every holder)').fill('The roof leaks');
  // Without the box ticked nothing happens but the question.
  await cancel.getByRole('button', { name: 'Cancel event' }).click();
  await expect(org.getByText('Tick the box to confirm: every buyer will be refunded')).toBeVisible();
  await expect(org.getByTestId('event-status')).toContainText('On sale');
  await org.getByRole('form', { name: 'Cancel this event' }).getByLabel('Reason (sent to every holder)').fill('The roof leaks');
  await org.getByLabel('Yes, cancel it and refund every buyer').check();
  await org.getByRole('form', { name: 'Cancel this event' }).getByRole('button', { name: 'Cancel event' }).click();
  await expect(org.getByTestId('refund-progress')).toContainText('Cancelled: The roof leaks');
  await expect
    .poll(async () => {
      await open(org, `/organise/${gig.eventId}`, javaScriptEnabled);
      return org.getByTestId('refund-progress').textContent();
    })
    .toContain('Refunds: 1 of 1 done');

  const letter = await mailTo(buyerEmail, `Cancelled: ${name}`);
  expect(letter.text).toContain('The roof leaks');
  await open(page, `/orders/${orderId}`, javaScriptEnabled);
  await expect(page.getByTestId('order-status')).toHaveText('Cancelled');
  await open(page, `/events/${(await (await page.request.get(`/api/events/${gig.eventId}`)).json()).slug}`, javaScriptEnabled);
  await expect(page.getByTestId('event-cancelled')).toHaveText('Cancelled: The roof leaks');
});
