import { test, expect } from '@playwright/test';
import { open, signUp, uniqueEmail } from './helpers';

/** A word no other test uses, so searching for it finds exactly this test's listing. */
function uniqueWord(): string {
  return `zz${Math.random().toString(36).slice(2, 10)}`;
}

test('list a ticket, find it among other listings, change its price, filter by category', async ({ page, javaScriptEnabled }) => {
  const word = uniqueWord();
  const title = `Derby day ${word}`;
  await signUp(page, uniqueEmail(), javaScriptEnabled);

  // Tickets for events not on sale here are sold from "Other listings".
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Other listings' }).click();
  await expect(page).toHaveURL(/\/tickets$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByRole('link', { name: 'Sell a ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/new$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price').fill('42.50');
  await page.getByLabel('Category').selectOption('sports');
  await page.getByLabel('Venue (optional)').fill('City Stadium');
  await page.getByRole('button', { name: 'List ticket' }).click();

  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByTestId('ticket-price')).toHaveText('$42.50');
  const ticketUrl = page.url();

  // Anyone browsing finds it by a word of its title.
  await open(page, '/tickets', javaScriptEnabled);
  await page.getByRole('searchbox', { name: 'Search by title' }).fill(word);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${word}`));
  const card = page.getByRole('article').filter({ hasText: title });
  await expect(card).toHaveCount(1);
  await expect(card).toContainText('$42.50');
  await expect(card).toContainText('City Stadium');

  // The seller changes the price on the ticket page; the change shows at once.
  await open(page, new URL(ticketUrl).pathname, javaScriptEnabled);
  await page.getByLabel('Price').fill('50');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('ticket-price')).toHaveText('$50.00');

  // Filtering by its category keeps it; another category hides it.
  await open(page, `/tickets?q=${word}&category=sports`, javaScriptEnabled);
  await expect(page.getByRole('article').filter({ hasText: title })).toContainText('$50.00');
  await page.getByLabel('Category').selectOption('concert');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/category=concert/);
  await expect(page.getByText('No tickets match')).toBeVisible();
  await expect(page.getByRole('article').filter({ hasText: title })).toHaveCount(0);
});

test('listing a ticket with a bad price shows the error beside the price', async ({ page, javaScriptEnabled }) => {
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/tickets/new', javaScriptEnabled);
  await page.getByLabel('Title').fill(`Bad price ${uniqueWord()}`);
  await page.getByLabel('Price').fill('9.999');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.locator('#price-error')).toHaveText('Price must have at most 2 decimals');
  await expect(page).toHaveURL(/\/tickets\/new/);
});

test('signed out, the sell page asks the visitor to sign in', async ({ page, javaScriptEnabled }) => {
  await open(page, '/tickets/new', javaScriptEnabled);
  await expect(page.getByText('Sign in to list a ticket for sale.')).toBeVisible();
});

test('an event time is entered and shown on the venue\'s clock, across a change of clocks', async ({ page, javaScriptEnabled }) => {
  const title = `Proms ${uniqueWord()}`;
  await signUp(page, uniqueEmail(), javaScriptEnabled);
  await open(page, '/tickets/new', javaScriptEnabled);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price').fill('30');
  await page.getByLabel("Event date and time, on the venue's clock (optional)").fill('2031-07-05T19:30');
  await page.getByLabel('Time zone of the venue').selectOption('Europe/London');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  // Summer in London is BST, an hour ahead of UTC.
  await expect(page.getByTestId('ticket-when')).toContainText('Sat 5 Jul 2031, 19:30 BST');
  await expect(page.getByTestId('ticket-when').locator('time')).toHaveAttribute('datetime', '2031-07-05T19:30:00.000+01:00');

  // Moved to December: the same wall-clock time, now GMT; the form keeps the venue's zone.
  await expect(page.getByLabel('Time zone of the venue')).toHaveValue('Europe/London');
  await expect(page.getByLabel("Event date and time, on the venue's clock (optional)")).toHaveValue('2031-07-05T19:30');
  await page.getByLabel("Event date and time, on the venue's clock (optional)").fill('2031-12-06T19:30');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('ticket-when')).toContainText('Sat 6 Dec 2031, 19:30 GMT');

  // The next listing's form starts on the zone this seller used last.
  await open(page, '/tickets/new', javaScriptEnabled);
  await expect(page.getByLabel('Time zone of the venue')).toHaveValue('Europe/London');
});
