import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { simpleParser } from 'mailparser';

export const PASSWORD = 'correct horse battery';

/** A fresh address per test, so tests never share an account. */
export function uniqueEmail(): string {
  return `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 10)}@example.com`;
}

/** Opens a page; with JavaScript on, waits until the app has hydrated so clicks reach it. */
export async function open(page: Page, path: string, javaScriptEnabled: boolean): Promise<void> {
  await page.goto(path);
  if (javaScriptEnabled) {
    await expect(page.locator('body[data-hydrated]')).toBeAttached();
  }
}

/** Marks the current document; `expectSameDocument` later proves no full page load happened. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __ticketingMark: boolean }).__ticketingMark = true;
  });
}

export async function expectSameDocument(page: Page): Promise<void> {
  const marked = await page.evaluate(() => (window as unknown as { __ticketingMark?: boolean }).__ticketingMark === true);
  expect(marked, 'the form was submitted without reloading the page').toBe(true);
}

/** A new account in a browser context of its own (API sign-up), for the other people of a story. */
export async function person(browser: Browser, javaScriptEnabled: boolean): Promise<{ page: Page; email: string }> {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  const email = uniqueEmail();
  await page.goto('/healthz');
  expect((await page.request.post('/api/users/signup', { data: { email, password: PASSWORD } })).status()).toBe(201);
  return { page, email };
}

export async function signUp(page: Page, email: string, javaScriptEnabled: boolean): Promise<void> {
  await open(page, '/auth/signup', javaScriptEnabled);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(email);
}

export interface Mail {
  subject: string;
  text: string;
  /** Content-IDs of the PNG images carried inside the message (a receipt's QR codes: `qr.<code>`). */
  images: string[];
}

/** Which server of playwright.config.ts: the main one, or the one with fees (E2E_FEES_URL). */
export type Site = 'e2e' | 'fees';

/** Every message written so far to a server's MAIL_DIR (no SMTP there), parsed. */
async function allMail(site: Site = 'e2e'): Promise<({ to: string } & Mail)[]> {
  const folder = join(process.env.E2E_DATA_DIR ?? '', site === 'e2e' ? 'mail' : `mail-${site}`);
  let names: string[] = [];
  try {
    names = readdirSync(folder).filter((name) => name.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const parsed = await simpleParser(readFileSync(join(folder, name)));
      const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
      const images = parsed.attachments.filter((a) => a.contentType === 'image/png' && a.cid).map((a) => a.cid as string);
      return { to: to?.value[0]?.address ?? '', subject: parsed.subject ?? '', text: parsed.text ?? '', images };
    }),
  );
}

/** Waits for the newest message to `to` with this subject (the mail worker delivers it within
 * moments of the action that queued it) and returns it. */
export async function mailTo(to: string, subject: string, site: Site = 'e2e'): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(async () => {
      const matching = (await allMail(site)).filter((m) => m.to === to && m.subject === subject);
      found = matching[matching.length - 1];
      return found !== undefined;
    }, { message: `a message "${subject}" to ${to}` })
    .toBe(true);
  return found as Mail;
}

/** How many messages with this subject `to` has been sent so far. */
export async function mailCount(to: string, subject: string): Promise<number> {
  return (await allMail()).filter((m) => m.to === to && m.subject === subject).length;
}

/** Confirms the address of the account signed in on `page` with the link mailed to it. */
export async function verifyEmail(page: Page, email: string, javaScriptEnabled: boolean, site: Site = 'e2e'): Promise<void> {
  const link = linkIn(await mailTo(email, 'Confirm your email address', site), '/auth/verify?token=');
  await open(page, link, javaScriptEnabled);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByRole('status')).toHaveText('Thank you: your email address is confirmed.');
}

/** The first link in a message's text that contains `path`. */
export function linkIn(mail: Mail, path: string): string {
  const link = mail.text.split(/\s+/).find((word) => word.includes(path));
  expect(link, `a ${path} link in: ${mail.text}`).toBeTruthy();
  return link as string;
}

/** The RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) of a base32 secret at `atMillis`: written
 * here from the RFC rather than taken from the server, so it checks the server's TOTP too. */
export function totp(secretBase32: string, atMillis: number = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMillis / 1000 / 30)));
  const digest = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

/** Gives an account the staff role with the binary's own command, on the e2e site's database. */
export function grantStaff(email: string): void {
  grantRole(email, 'staff');
}

/** Gives the account a role with the command line, on the main site's database. */
export function grantRole(email: string, role: 'staff' | 'admin' | 'organiser'): void {
  execFileSync(process.env.TICKETING_BIN ?? '../target/release/ticketing', ['admin', 'grant', email, '--role', role], {
    env: { ...process.env, DATABASE_URL: `sqlite://${join(process.env.E2E_DATA_DIR ?? '', 'e2e.db')}`, RUST_LOG: 'warn' },
    stdio: 'pipe',
  });
}

/** Pays for the order open on `page` (its page at `/orders/:id`) with the test card, and waits
 * until it says Paid. */
export async function pay(page: Page, price: string, javaScriptEnabled: boolean): Promise<void> {
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: `Pay ${price}` }).click();
  await expect(page.getByTestId('order-status')).toHaveText('Paid');
}

/** Verifies the address of the account signed in on `request` (whose address is `email`) with
 * the mailed link, and grants it the organiser role with the command line. */
export async function becomeOrganiser(request: APIRequestContext, email: string): Promise<void> {
  const link = linkIn(await mailTo(email, 'Confirm your email address'), '/auth/verify?token=');
  const token = new URL(link).searchParams.get('token');
  expect((await request.post('/api/users/verify', { data: { token } })).status()).toBe(200);
  grantRole(email, 'organiser');
}

/** An event created and published through the API by the organiser signed in on `request`:
 * one standing section of `capacity` seats at `price`, on `date` at 19:30 in London. Its
 * seats' titles are `<name> — Standing`. */
export async function publishEvent(
  request: APIRequestContext,
  name: string,
  price: number,
  capacity = 10,
  date = '2030-06-01',
): Promise<{ eventId: string; sectionId: string }> {
  const created = await request.post('/api/events', {
    data: {
      name,
      category: 'concert',
      venue: 'Hall',
      city: 'Leeds',
      timeZone: 'Europe/London',
      startsAt: `${date}T19:30`,
      sections: [{ name: 'Standing', price, capacity }],
    },
  });
  expect(created.status()).toBe(201);
  const event = await created.json();
  expect((await request.post(`/api/events/${event.id}/publish`, { data: {} })).status()).toBe(200);
  return { eventId: event.id as string, sectionId: event.sections[0].id as string };
}

/** An event on sale, put there by a new organiser: the account signed in on `request` (whose
 * address is `email`) becomes one ([`becomeOrganiser`]) and publishes it ([`publishEvent`]). */
export async function eventOnSale(
  request: APIRequestContext,
  email: string,
  name: string,
  price: number,
  capacity = 10,
): Promise<{ eventId: string; sectionId: string }> {
  await becomeOrganiser(request, email);
  return publishEvent(request, name, price, capacity);
}

/** The page exactly as a browser without JavaScript shows it, opened in a context that can run
 * axe: the same HTML (its scripts removed, so nothing hydrates) with the site's real styles. */
async function mirrored(page: Page): Promise<Page> {
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
  const url = page.url();
  const context = await page.context().browser()!.newContext({ javaScriptEnabled: true, viewport: page.viewportSize() });
  const mirror = await context.newPage();
  await mirror.route((u) => u.href === url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await mirror.goto(url);
  return mirror;
}

/** Runs axe on the page as it stands; fails with each serious or critical violation and where.
 * Without JavaScript the page cannot run axe itself, so a mirror of it does. */
export async function expectAccessible(page: Page, what: string, javaScriptEnabled: boolean): Promise<void> {
  const target = javaScriptEnabled ? page : await mirrored(page);
  const results = await new AxeBuilder({ page: target }).analyze();
  if (target !== page) await target.context().close();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}
