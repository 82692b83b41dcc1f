import { test, expect } from '@playwright/test';
import { PASSWORD, linkIn, mailCount, mailTo, open, signUp, uniqueEmail } from './helpers';

test('sign up, then confirm the address with the link in the mail', async ({ page, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);
  await expect(page.getByTestId('verify-reminder')).toBeVisible();

  const mail = await mailTo(email, 'Confirm your email address');
  const link = linkIn(mail, '/auth/verify?token=');
  await open(page, link, javaScriptEnabled);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByRole('status')).toHaveText('Thank you: your email address is confirmed.');

  await open(page, '/account', javaScriptEnabled);
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await expect(page.getByText('Confirmed', { exact: true })).toBeVisible();
  await expect(page.getByTestId('verify-reminder')).toHaveCount(0);

  // The link works once.
  await open(page, link, javaScriptEnabled);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByRole('alert')).toHaveText('Link is invalid or has expired');
});

test('forget the password, reset it from the mailed link, sign in with the new one', async ({ page, javaScriptEnabled }) => {
  const email = uniqueEmail();
  const newPassword = 'lantern orbit meadow 42';
  await signUp(page, email, javaScriptEnabled);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('current-user')).toHaveCount(0);

  await open(page, '/auth/signin', javaScriptEnabled);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page).toHaveURL(/\/auth\/forgot$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account uses that address');

  const link = linkIn(await mailTo(email, 'Reset your password'), '/auth/reset?token=');
  await open(page, link, javaScriptEnabled);
  // A common password is refused and the link keeps working.
  await page.getByLabel('New password', { exact: true }).fill('password123');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.locator('#password-error')).toHaveText('Password is too common');
  if (!javaScriptEnabled) await open(page, link, javaScriptEnabled);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByRole('status')).toContainText('Your password is changed');
  await expect.poll(() => mailCount(email, 'Your password was changed')).toBe(1);

  await open(page, '/auth/signin', javaScriptEnabled);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid credentials');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(email);
});

test('the account page lists my sessions and signs out everywhere else', async ({ page, browser, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);

  const otherContext = await browser.newContext({ javaScriptEnabled, userAgent: 'Other <i>Device</i>' });
  const other = await otherContext.newPage();
  await open(other, '/auth/signin', javaScriptEnabled);
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(other.getByTestId('current-user')).toHaveText(email);

  await open(page, '/account', javaScriptEnabled);
  // Several forms on one page: every input keeps an id (and so a label) of its own.
  const ids = await page.locator('[id]').evaluateAll((elements) => elements.map((e) => e.id));
  expect(ids.length).toBeGreaterThan(5);
  expect(new Set(ids).size, `duplicate ids among ${ids.join(', ')}`).toBe(ids.length);
  const sessions = page.getByTestId('sessions').getByRole('listitem');
  await expect(sessions).toHaveCount(2);
  await expect(page.getByText('Other <i>Device</i>')).toBeVisible();
  await expect(page.getByText('This device')).toHaveCount(1);
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await expect(page.getByRole('status')).toHaveText('Every other session is signed out.');
  await expect(sessions).toHaveCount(1);

  await other.reload();
  await expect(other.getByTestId('current-user')).toHaveCount(0);
  await expect(page.getByTestId('current-user')).toHaveText(email);
  await otherContext.close();
});
