import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, eventOnSale, grantStaff, linkIn, mailTo, open, pay, person, signUp, uniqueEmail } from './helpers';

async function buy(page: Page, ticketId: string, price: string, javaScriptEnabled: boolean): Promise<void> {
  await open(page, `/tickets/${ticketId}`, javaScriptEnabled);
  await page.getByRole('button', { name: `Buy for ${price}` }).click();
  await pay(page, price, javaScriptEnabled);
}

/** Reserves a seat of the section (through the API, as the event page will) and pays on the
 * order page. */
async function buySeat(page: Page, sectionId: string, price: string, javaScriptEnabled: boolean): Promise<void> {
  const reserved = await page.request.post('/api/orders', { data: { sectionId } });
  expect(reserved.status()).toBe(201);
  await open(page, `/orders/${(await reserved.json()).id}`, javaScriptEnabled);
  await pay(page, price, javaScriptEnabled);
}

async function scan(door: Page, eventId: string, code: string, javaScriptEnabled: boolean): Promise<void> {
  await open(door, `/check-in?event=${eventId}`, javaScriptEnabled);
  await door.getByLabel('Ticket code').fill(code);
  await door.getByRole('button', { name: 'Check in' }).click();
}

test('a resold ticket: the old code is refused at the door, the new one admitted once', async ({ page, browser, javaScriptEnabled }) => {
  // Five people, two purchases through the pages, and six scans.
  test.slow();
  const title = `Derby zz${Math.random().toString(36).slice(2, 10)}`;
  const organiser = await person(browser, javaScriptEnabled);
  const derby = await eventOnSale(organiser.page.request, organiser.email, title, 30);

  // The first buyer pays, then resells from My tickets.
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await buySeat(page, derby.sectionId, '$30.00', javaScriptEnabled);
  await open(page, '/tickets/mine', javaScriptEnabled);
  const mine = page.getByTestId('bought-ticket').filter({ hasText: title });
  const oldCode = (await mine.getByTestId('ticket-code').textContent()) as string;
  await page.getByRole('form', { name: `Resell ${title} — Standing` }).getByLabel('Resale price').fill('32');
  await page.getByRole('button', { name: 'Resell' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  const resaleId = page.url().split('/').pop() as string;

  // Someone buys the resale: the first buyer's code is void at once.
  const second = await person(browser, javaScriptEnabled);
  await buy(second.page, resaleId, '$32.00', javaScriptEnabled);
  await open(second.page, '/tickets/mine', javaScriptEnabled);
  const newCode = (await second.page.getByTestId('bought-ticket').filter({ hasText: title }).getByTestId('ticket-code').textContent()) as string;
  expect(newCode).not.toBe(oldCode);
  await open(page, '/tickets/mine', javaScriptEnabled);
  await expect(mine.getByTestId('code-note')).toHaveText('Resold — this code is no longer valid');
  await expect(mine.getByTestId('ticket-code')).toHaveCount(0);

  // At the door: staff choose the event first.
  const door = await person(browser, javaScriptEnabled);
  grantStaff(door.email);
  await open(door.page, '/check-in', javaScriptEnabled);
  await door.page.getByTestId('door-list').getByRole('link', { name: title }).click();
  await expect(door.page.getByRole('heading', { level: 1 })).toHaveText(`Check-in: ${title}`);
  await expect(door.page.getByTestId('door-count')).toHaveText('0 of 1 checked in');
  await door.page.getByLabel('Ticket code').fill(oldCode);
  await door.page.getByRole('button', { name: 'Check in' }).click();
  await expect(door.page.getByTestId('scan-headline')).toHaveText('Resold — this code is no longer valid');
  await scan(door.page, derby.eventId, newCode, javaScriptEnabled);
  await expect(door.page.getByTestId('scan-headline')).toHaveText('Valid');
  await expect(door.page.getByTestId('scan-result')).toContainText(title);
  await expect(door.page.getByTestId('door-count')).toHaveText('1 of 1 checked in');
  await scan(door.page, derby.eventId, newCode, javaScriptEnabled);
  await expect(door.page.getByTestId('scan-headline')).toHaveText(/^Already used at \d\d:\d\d UTC$/);
  await scan(door.page, derby.eventId, 'TKT-00000000-00000000-00000000-00000000', javaScriptEnabled);
  await expect(door.page.getByTestId('scan-headline')).toHaveText('Unknown');

  // A code of an other listing admits at no door here.
  const lister = await person(browser, javaScriptEnabled);
  const listed = await lister.page.request.post('/api/tickets', { data: { title: `Elsewhere ${title}`, price: 12, category: 'sports' } });
  expect(listed.status()).toBe(201);
  await buy(second.page, (await listed.json()).id as string, '$12.00', javaScriptEnabled);
  await open(second.page, '/tickets/mine', javaScriptEnabled);
  const elsewhere = (await second.page.getByTestId('bought-ticket').filter({ hasText: `Elsewhere ${title}` }).getByTestId('ticket-code').textContent()) as string;
  await scan(door.page, derby.eventId, elsewhere, javaScriptEnabled);
  await expect(door.page.getByTestId('scan-headline')).toHaveText('Wrong event — this code is for no event here');
  await expect(door.page.getByTestId('door-count')).toHaveText('1 of 1 checked in');
});

test('the door page is for door staff only', async ({ page, javaScriptEnabled }) => {
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/check-in', javaScriptEnabled);
  await expect(page.getByText('This page is for door staff.', { exact: false })).toBeVisible();
  await expect(page.getByLabel('Ticket code')).toHaveCount(0);
});

test('a ticket given to a friend who then signs up is theirs, and the giver\'s code stops working', async ({ page, browser, javaScriptEnabled }) => {
  const title = `Opera zz${Math.random().toString(36).slice(2, 10)}`;
  const seller = await person(browser, javaScriptEnabled);
  const created = await seller.page.request.post('/api/tickets', { data: { title, price: 40, category: 'theater' } });
  const ticketId = (await created.json()).id as string;
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await buy(page, ticketId, '$40.00', javaScriptEnabled);

  const friendEmail = uniqueEmail();
  await open(page, '/tickets/mine', javaScriptEnabled);
  const give = page.getByRole('form', { name: `Give ${title} to a friend` });
  await give.getByLabel("Friend's email").fill(friendEmail);
  await give.getByRole('button', { name: 'Give to a friend' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'We have emailed them.' })).toBeVisible();
  await expect(page.getByRole('form', { name: `Transfer of ${title}` })).toContainText(`Waiting for ${friendEmail} to make an account.`);

  // The friend follows the invitation: the address is filled in.
  const friendContext = await browser.newContext({ javaScriptEnabled });
  const friend = await friendContext.newPage();
  const invitation = await mailTo(friendEmail, `A ticket for you: ${title}`);
  await open(friend, linkIn(invitation, '/auth/signup?email='), javaScriptEnabled);
  await expect(friend.getByLabel('Email')).toHaveValue(friendEmail);
  await friend.getByLabel('Password').fill(PASSWORD);
  await friend.getByRole('button', { name: 'Sign up' }).click();
  await expect(friend.getByTestId('current-user')).toHaveText(friendEmail);
  await open(friend, '/tickets/mine', javaScriptEnabled);
  const theirs = friend.getByTestId('bought-ticket').filter({ hasText: title });
  await expect(theirs.getByTestId('ticket-code')).toHaveText(/^TKT(-[0-9A-F]{8}){4}$/);
  await friendContext.close();

  await open(page, '/tickets/mine', javaScriptEnabled);
  const mine = page.getByTestId('bought-ticket').filter({ hasText: title });
  await expect(mine.getByTestId('code-note')).toHaveText('Transferred — this code is no longer valid');
  await expect(mine.getByTestId('ticket-code')).toHaveCount(0);
});
