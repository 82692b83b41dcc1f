import { test, expect } from '@playwright/test';
import { PASSWORD, open, signUp, totp, uniqueEmail } from './helpers';

test('turn on two-factor sign-in with an authenticator code, then sign in with one', async ({ page, javaScriptEnabled }) => {
  const email = uniqueEmail();
  await signUp(page, email, javaScriptEnabled);
  await open(page, '/account', javaScriptEnabled);

  const setup = page.getByRole('form', { name: 'Set up two-factor sign-in' });
  await setup.getByLabel('Your password').fill(PASSWORD);
  await setup.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const secretText = page.getByTestId('totp-secret');
  await expect(secretText).toHaveText(/^[A-Z2-7]{32}$/);
  await expect(page.locator('.totp-qr svg')).toBeVisible();
  const secret = (await secretText.textContent()) ?? '';

  const confirm = page.getByRole('form', { name: 'Confirm two-factor sign-in' });
  await confirm.getByLabel('Code from the app').fill('000000');
  await confirm.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  await expect(page.locator('#enable-code-error')).toHaveText('Invalid two-factor code');
  if (!javaScriptEnabled) await open(page, '/account', javaScriptEnabled);
  await page.getByRole('form', { name: 'Confirm two-factor sign-in' }).getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  const codes = page.getByTestId('recovery-codes').getByRole('listitem');
  await expect(codes).toHaveCount(10);
  await expect(codes.first()).toHaveText(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  await expect(page.getByText('On: signing in asks for a code')).toBeVisible();

  // Shown once.
  await open(page, '/account', javaScriptEnabled);
  await expect(page.getByText('On: signing in asks for a code')).toBeVisible();
  await expect(page.getByTestId('recovery-codes')).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
  await open(page, '/auth/signin', javaScriptEnabled);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#code-error')).toHaveText('Two-factor code required');
  await expect(page.getByTestId('current-user')).toHaveCount(0);

  if (!javaScriptEnabled) {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  }
  // The next step's code: the one that turned it on may be from this very step.
  await page.getByLabel('Two-factor code').fill(totp(secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(email);
});
