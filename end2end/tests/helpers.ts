import { expect, type Page } from '@playwright/test';

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

export async function signUp(page: Page, email: string, javaScriptEnabled: boolean): Promise<void> {
  await open(page, '/auth/signup', javaScriptEnabled);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(email);
}
