import { test, expect } from '@playwright/test';
import { PASSWORD, expectSameDocument, markDocument, open, signUp, uniqueEmail } from './helpers';

test('sign up, see my email in the header, sign out, sign in again', async ({ page, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await open(page, '/auth/signup', javaScriptEnabled);
  if (javaScriptEnabled) await markDocument(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText(email);
  if (javaScriptEnabled) await expectSameDocument(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();

  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/auth\/signin$/);
  if (javaScriptEnabled) await expect(page.locator('body[data-hydrated]')).toBeAttached();
  await page.getByLabel('Email').fill(email.toUpperCase());
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText(email);
  if (javaScriptEnabled) await expectSameDocument(page);
});

test('a wrong password is refused with a message on the form', async ({ page, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('current-user')).toHaveCount(0);

  await open(page, '/auth/signin', javaScriptEnabled);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid credentials');
  await expect(page.getByTestId('current-user')).toHaveCount(0);
});

test('a taken email is reported beside the email input', async ({ page, browser, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);

  const other = await browser.newContext({ javaScriptEnabled });
  const second = await other.newPage();
  await open(second, '/auth/signup', javaScriptEnabled);
  await second.getByLabel('Email').fill(email);
  await second.getByLabel('Password').fill(PASSWORD);
  await second.getByRole('button', { name: 'Sign up' }).click();
  await expect(second.locator('#email-error')).toHaveText('Email already in use');
  await expect(second.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(second.getByTestId('current-user')).toHaveCount(0);
  await other.close();
});

test('unknown pages show a friendly not-found page', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
